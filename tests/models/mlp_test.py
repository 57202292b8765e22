"""Tests for refnn.models.MLP: δ rules vs the seed, autodiff and Dense."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn import losses
from refnn.models import MLP
from refnn.testing import TestCase
from refnn.training import regularizers

# The seed's worked 2-1-1 example (seed 002, "Backpropagation").
SEED_X = np.array([[0.1, 0.3]], "float32")
SEED_Y = np.array([[1.0]], "float32")
SEED_w = np.array([[0.4], [-0.2]], "float32")  # input -> hidden
SEED_W = np.array([[0.1]], "float32")  # hidden -> output
ETA = 0.5

_tc = TestCase()


def _seed_model():
    model = MLP([1, 1], activation="sigmoid", use_bias=False, loss="sse")
    model.build((None, 2))
    model.set_weights([SEED_w, SEED_W])
    return model


def _numpy_seed_example():
    """The seed's formulas in float64 numpy, step by step."""
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    x, y = SEED_X.astype("float64")[0], 1.0
    w, W = SEED_w.astype("float64")[:, 0], float(SEED_W[0, 0])
    h = np.dot(w, x)
    a = sigmoid(h)
    y_hat = sigmoid(W * a)
    delta_o = (y - y_hat) * y_hat * (1 - y_hat)
    delta_h = W * delta_o * a * (1 - a)
    return dict(
        h=h,
        a=a,
        y_hat=y_hat,
        delta_o=delta_o,
        delta_h=delta_h,
        Delta_W=ETA * delta_o * a,
        Delta_w=ETA * delta_h * x,
    )


def test_seed_worked_example_printed_numbers():
    trace = _seed_model().backprop_trace(SEED_X, SEED_Y, learning_rate=ETA)
    got = {k: np.asarray(v, "float64").ravel() for k, v in trace.items()}
    # The seed's numbers at the precision it prints them.
    assert round(float(got["h"][0]), 2) == -0.02
    assert round(float(got["a"][0]), 3) == 0.495
    assert round(float(got["y_hat"][0]), 3) == 0.512
    assert round(float(got["delta_o"][0]), 3) == 0.122
    assert round(float(got["delta_h"][0]), 3) == 0.003
    assert round(float(got["Delta_W"][0]), 4) == 0.0302
    # The seed multiplies the rounded δʰ = 0.003: Δw = 0.5·0.003·x.
    seed_delta_w = ETA * round(float(got["delta_h"][0]), 3) * SEED_X[0]
    np.testing.assert_allclose(seed_delta_w, [0.00015, 0.00045], atol=1e-12)
    np.testing.assert_allclose(got["Delta_w"], [0.00015, 0.00045], atol=1e-5)
    # Exact values: the same formulas in float64 numpy.
    for name, value in _numpy_seed_example().items():
        np.testing.assert_allclose(
            got[name], np.ravel(value), atol=1e-6, err_msg=name
        )


@pytest.mark.parametrize("jit_compile", [False, True])
def test_one_fit_step_moves_weights_by_seed_deltas(jit_compile):
    model = _seed_model()
    model.compile(optimizer=keras.optimizers.SGD(ETA), jit_compile=jit_compile)
    model.fit(SEED_X, SEED_Y, batch_size=1, epochs=1, verbose=0)
    new_w, new_W = model.get_weights()
    expected = _numpy_seed_example()
    np.testing.assert_allclose(
        new_W.ravel() - SEED_W.ravel(), [expected["Delta_W"]], atol=1e-6
    )
    np.testing.assert_allclose(
        new_w.ravel() - SEED_w.ravel(), expected["Delta_w"], atol=1e-6
    )
    assert round(float(new_W[0, 0] - SEED_W[0, 0]), 4) == 0.0302
    np.testing.assert_allclose(
        new_w.ravel() - SEED_w.ravel(), [0.00015, 0.00045], atol=1e-5
    )


_LOSS_OUTPUTS = [
    ("sse", "sigmoid"),
    ("sse", "softmax"),
    ("mse", "linear"),
    ("mse", "tanh"),
    ("binary_crossentropy", "sigmoid"),
    ("categorical_crossentropy", "softmax"),
    ("sparse_categorical_crossentropy", "softmax"),
]


def _targets(rng, loss, batch, classes):
    if loss == "sparse_categorical_crossentropy":
        return rng.integers(0, classes, size=(batch,)).astype("int32")
    if loss == "categorical_crossentropy":
        return np.eye(classes, dtype="float32")[
            rng.integers(0, classes, size=batch)
        ]
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, size=(batch, classes)).astype("float32")
    return rng.normal(size=(batch, classes)).astype("float32")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_gradients_match_tape(activation):
    """Every loss × output pair, bias on and off, two hidden layers."""
    rng = np.random.default_rng(7)
    batch, inputs, classes = 6, 5, 3
    for loss, output in _LOSS_OUTPUTS:
        for use_bias in (True, False):
            model = MLP(
                [4, 3, classes],
                activation=activation,
                output_activation=output,
                use_bias=use_bias,
                loss=loss,
                bias_initializer="random_normal",
            )
            x = rng.normal(size=(batch, inputs)).astype("float32")
            y = _targets(rng, loss, batch, classes)
            model.build(x.shape)
            try:
                _tc.assert_grads_match(model, x, y, atol=1e-6, rtol=1e-5)
            except AssertionError as error:
                raise AssertionError(
                    f"{activation=} {loss=} {output=} {use_bias=}: {error}"
                ) from None


_PENALTIES = [
    dict(l2=0.03),
    dict(kernel_regularizer=regularizers.L1(0.02)),
    dict(l2=0.01, kernel_regularizer=regularizers.ElasticNet(0.05, 0.3)),
    dict(kernel_regularizer=keras.regularizers.L1L2(0.01, 0.02)),
]


def test_gradients_match_tape_with_penalties():
    rng = np.random.default_rng(3)
    for penalty in _PENALTIES:
        model = MLP(
            [6, 2],
            activation="tanh",
            output_activation="sigmoid",
            loss="binary_crossentropy",
            **penalty,
        )
        x = rng.normal(size=(8, 4)).astype("float32")
        y = rng.integers(0, 2, size=(8, 2)).astype("float32")
        model.build(x.shape)
        _tc.assert_grads_match(model, x, y, atol=1e-6, rtol=1e-5)
        # The penalty is really part of the loss.
        bare = float(model.loss_function(y, model(x)))
        total = float(model.compute_loss(x=x, y=y, y_pred=model(x)))
        assert total > bare, penalty


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_gradients_match_tape_with_sample_weights(reduction):
    rng = np.random.default_rng(5)
    model = MLP(
        [5, 3],
        activation="relu",
        output_activation="softmax",
        loss=losses.CategoricalCrossEntropy(reduction=reduction),
        bias_initializer="random_normal",
        l2=0.01,
    )
    x = rng.normal(size=(7, 4)).astype("float32")
    y = _targets(rng, "categorical_crossentropy", 7, 3)
    sw = rng.uniform(0.1, 2.0, size=(7,)).astype("float32")
    model.build(x.shape)
    explicit = model.compute_gradients(x, y, sample_weight=sw)
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x), sample_weight=sw)
    taped = tape.gradient(loss, model.trainable_variables)
    for mine, ref in zip(explicit, taped):
        np.testing.assert_allclose(mine, ref, atol=1e-6, rtol=1e-5)


def test_forward_and_fit_step_match_dense_twin():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(16, 5)).astype("float32")
    y = rng.integers(0, 3, size=(16,)).astype("int32")
    model = MLP(
        [8, 3],
        activation="tanh",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
        l2=0.01,
        bias_initializer="random_normal",
    )
    model.build(x.shape)
    twin = model.to_dense_sequential()
    _tc.assertAllClose(model(x), twin(x), atol=1e-6)
    # One SGD step: explicit backprop vs Keras autodiff on the Dense stack.
    for layer in twin.layers:
        layer.kernel_regularizer = keras.regularizers.L2(0.01)
    twin = keras.Sequential.from_config(twin.get_config())
    twin.set_weights(model.get_weights())
    twin.compile(
        optimizer=keras.optimizers.SGD(0.3),
        loss=losses.SparseCategoricalCrossEntropy(),
    )
    model.compile(optimizer=keras.optimizers.SGD(0.3))
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    twin.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for mine, ref in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(mine, ref, atol=1e-6)
    # And back: Dense weights copied into a fresh MLP give the same outputs.
    fresh = MLP(
        [8, 3],
        activation="tanh",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
    )
    fresh.set_weights_from_dense(twin)
    _tc.assertAllClose(fresh(x), twin(x), atol=1e-6)


def test_config_and_keras_round_trip():
    model = MLP(
        [4, 2],
        activation="relu",
        output_activation="sigmoid",
        loss=losses.BinaryCrossEntropy(reduction="sum"),
        l2=0.02,
        kernel_regularizer=regularizers.L1(0.01),
        kernel_initializer="he_normal",
        name="roundtrip",
    )
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    model.build(x.shape)
    config = model.get_config()
    again = MLP.from_config(config)
    assert again.get_config() == config
    model.compile(optimizer="sgd", metrics=["binary_accuracy"])
    reloaded = _tc.run_model_saving_test(model, x)
    assert reloaded.get_config() == config
    assert reloaded.loss_function.reduction == "sum"
    for mine, ref in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(mine, ref)


@pytest.mark.large
def test_export_classifier_and_regressor():
    rng = np.random.default_rng(1)
    clf = MLP(
        [6, 4],
        activation="relu",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
    )
    clf.build((None, 3))
    cases = [
        {"features": rng.normal(size=(2, 3)).astype("float32")},
        {"features": rng.normal(size=(5, 3)).astype("float32")},
    ]
    outputs = clf.serve(features=cases[1]["features"])
    assert sorted(outputs) == ["label", "probabilities"]
    np.testing.assert_array_equal(
        outputs["label"], np.argmax(outputs["probabilities"], axis=-1)
    )
    _tc.run_export_test(clf, cases)
    reg = MLP([4, 2], activation="tanh", output_activation="linear", loss="mse")
    reg.build((None, 3))
    assert sorted(reg.serve(features=cases[0]["features"])) == ["outputs"]
    binary = MLP([3, 1], activation="tanh", output_activation="sigmoid")
    binary.build((None, 3))
    served = binary.serve(features=cases[1]["features"])
    assert tuple(served["label"].shape) == (5,)


@pytest.mark.large
def test_learns_xor_on_tf_data_with_jit():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
    y = np.array([[0], [1], [1], [0]], "float32")
    dataset = tf.data.Dataset.from_tensors((x, y)).repeat()
    model = MLP(
        [8, 1],
        activation="tanh",
        output_activation="sigmoid",
        loss="binary_crossentropy",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        metrics=["binary_accuracy"],
        jit_compile=True,
    )
    history = model.fit(
        dataset, steps_per_epoch=200, epochs=1, shuffle=False, verbose=0
    )
    predicted = (np.asarray(model.predict(x, verbose=0)) > 0.5).astype(int)
    np.testing.assert_array_equal(predicted, y.astype(int))
    assert history.history["binary_accuracy"][-1] > 0.7
    # evaluate() reports compute_loss (data term + penalty).
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    expected = float(model.compute_loss(x=x, y=y, y_pred=model(x)))
    assert abs(loss - expected) < 1e-5


@pytest.mark.large
def test_learns_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y.astype("int32"), test_size=0.25, random_state=0
    )
    train = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(2048, seed=0)
        .batch(64)
    )
    model = MLP(
        [32, 10],
        activation="relu",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        metrics=["sparse_categorical_accuracy"],
    )
    model.fit(train, epochs=8, shuffle=False, verbose=0)
    accuracy = np.mean(
        np.argmax(model.predict(x_test, verbose=0), axis=-1) == y_test
    )
    assert accuracy >= 0.9, f"digits test accuracy {accuracy:.3f} < 0.9"


_INVALID = [
    (dict(units=[]), "units"),
    (dict(units=[3, 0]), "units"),
    (dict(units=4), "units"),
    (dict(units=[2], activation="swishy"), "swishy"),
    (dict(units=[2], activation="softmax"), "activation"),
    (dict(units=[2], loss="hinge"), "hinge"),
    (dict(units=[2], l2=-0.1), "l2"),
    (
        dict(
            units=[2],
            output_activation="softmax",
            loss="binary_crossentropy",
        ),
        "output_activation",
    ),
    (
        dict(units=[2], loss=losses.BinaryCrossEntropy(from_logits=True)),
        "logits",
    ),
    (
        dict(units=[2], loss=losses.SumSquaredError(reduction="none")),
        "reduction",
    ),
]


def test_invalid_args_raise():
    for kwargs, message in _INVALID:
        with pytest.raises(ValueError, match=message):
            MLP(**kwargs)


def _one_sgd_step(model, x, y, **compile_kwargs):
    model.compile(optimizer=keras.optimizers.SGD(0.5), **compile_kwargs)
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return model.get_weights()


def test_compile_loss_is_the_training_loss():
    """compile(loss=...) trains on that loss, like the constructor's."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 8)]
    kwargs = dict(activation="tanh", output_activation="softmax")
    start = MLP([5, 3], **kwargs)
    start.build(x.shape)
    init = start.get_weights()

    def trained(loss_in_init, loss_in_compile):
        model = MLP([5, 3], loss=loss_in_init, **kwargs)
        model.build(x.shape)
        model.set_weights(init)
        extra = {} if loss_in_compile is None else {"loss": loss_in_compile}
        return _one_sgd_step(model, x, y, **extra)

    reference = trained("categorical_crossentropy", None)
    for compiled in (
        keras.losses.CategoricalCrossentropy(),
        losses.CategoricalCrossEntropy(),
        "categorical_crossentropy",
    ):
        got = trained("sse", compiled)
        for a, b in zip(got, reference):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    sse = trained("sse", None)
    assert max(np.abs(a - b).max() for a, b in zip(sse, reference)) > 1e-3


@pytest.mark.parametrize(
    "loss",
    [
        "hinge",
        keras.losses.Hinge(),
        keras.losses.CategoricalCrossentropy(from_logits=True),
        keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
    ],
)
def test_compile_with_an_underived_loss_raises_at_compile(loss):
    model = MLP([2, 3], output_activation="softmax")
    with pytest.raises(ValueError, match="categorical_crossentropy|logits"):
        model.compile(optimizer="sgd", loss=loss)


def test_compile_loss_needs_the_matching_output():
    model = MLP([2, 3], activation="sigmoid")
    with pytest.raises(ValueError, match="output_activation='softmax'"):
        model.compile(optimizer="sgd", loss="categorical_crossentropy")


def test_compiled_loss_survives_save_and_reload(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 4)).astype("float32")
    y = rng.integers(0, 3, 6)
    model = MLP([4, 3], activation="relu", output_activation="softmax")
    model.compile("sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded._loss_kind == "sparse_categorical_crossentropy"
    assert loaded.get_config() == model.get_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("reduction,divisor", [("sum", 1.0), (None, 4.0)])
def test_batch_step_is_the_seeds_accumulated_record_steps(reduction, divisor):
    """Seed: Δw = Σ_records δ x, then w += η Δw / m (m = 1 for the SSE)."""
    rng = np.random.default_rng(2)
    loss = (
        losses.SumSquaredError(reduction="sum") if reduction == "sum" else "sse"
    )
    model = MLP([3, 2], activation="sigmoid", loss=loss)
    x = rng.normal(size=(4, 5)).astype("float32")
    y = rng.uniform(size=(4, 2)).astype("float32")
    model.build(x.shape)
    batch = model.compute_gradients(x, y)
    records = [
        model.compute_gradients(x[i : i + 1], y[i : i + 1]) for i in range(4)
    ]
    for index, grad in enumerate(batch):
        accumulated = sum(np.asarray(r[index]) for r in records)
        np.testing.assert_allclose(
            np.asarray(grad), accumulated / divisor, atol=1e-6, rtol=1e-5
        )
    # The trace's weight steps are −η × gradient, per layer.
    trace = model.backprop_trace(x, y, learning_rate=0.1)
    np.testing.assert_allclose(
        trace["Delta_kernel1"], -0.1 * np.asarray(batch[0]), atol=1e-7
    )
    np.testing.assert_allclose(
        trace["Delta_bias2"], -0.1 * np.asarray(batch[3]), atol=1e-7
    )


def test_keras_loss_objects_give_the_same_gradients_as_tape():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 4)).astype("float32")
    cases = [
        (keras.losses.MeanSquaredError(), "linear", "mse"),
        (keras.losses.BinaryCrossentropy(), "sigmoid", "binary_crossentropy"),
        (
            keras.losses.CategoricalCrossentropy(),
            "softmax",
            "categorical_crossentropy",
        ),
        (
            keras.losses.SparseCategoricalCrossentropy(),
            "softmax",
            "sparse_categorical_crossentropy",
        ),
    ]
    for loss, output, kind in cases:
        model = MLP(
            [5, 3], activation="tanh", output_activation=output, loss=loss
        )
        model.build(x.shape)
        y = _targets(rng, kind, 6, 3)
        _tc.assert_grads_match(model, x, y, atol=1e-6, rtol=1e-5)
