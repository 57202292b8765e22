"""GradientNormLogger and gradient clipping (vanishing/exploding)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn.training import (
    GradientNormLogger,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    global_norm,
)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 8)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")


def _deep(activation, depth=6):
    layers = [keras.Input((8,))]
    layers += [
        keras.layers.Dense(8, activation=activation) for _ in range(depth)
    ]
    layers += [keras.layers.Dense(1, activation="sigmoid")]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_logger_matches_tape_and_shows_vanishing_sigmoid_gradients():
    model = _deep("sigmoid")
    probe = GradientNormLogger(X, Y)
    history = model.fit(
        X, Y, epochs=2, batch_size=32, verbose=0, callbacks=[probe]
    )
    kernels = [v for v in model.trainable_variables if "kernel" in v.name]
    assert list(probe.norms) == [v.path for v in kernels]
    assert all(len(n) == 2 for n in probe.norms.values())
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=X, y=Y, y_pred=model(X))
    grads = tape.gradient(loss, kernels)
    for v, g in zip(kernels, grads):
        expected = float(np.linalg.norm(g.numpy()))
        assert probe.norms[v.path][-1] == pytest.approx(expected, rel=1e-5)
        assert history.history[f"grad_norm/{v.path}"][-1] == pytest.approx(
            expected, rel=1e-5
        )
    # The seed's claim: every sigmoid layer scales the error by σ' ≤ 0.25,
    # so the first layer's gradient is far smaller than the last one's.
    first, last = (
        probe.initial[kernels[0].path],
        probe.initial[kernels[-1].path],
    )
    assert first < 0.01 * last


def test_relu_gradients_do_not_vanish_like_sigmoid():
    def ratio(activation):
        keras.utils.set_random_seed(1)
        model = _deep(activation)
        init = keras.initializers.HeNormal(seed=1)
        for layer in model.layers[:-1]:
            layer.kernel.assign(init(layer.kernel.shape))
        probe = GradientNormLogger(X, Y)
        probe.set_model(model)
        norms = list(probe.gradient_norms().values())
        return norms[0] / norms[-1]

    assert ratio("relu") > 100 * ratio("sigmoid")


def test_logger_uses_explicit_gradients_of_refnn_models():
    from refnn.models import MLP

    model = MLP([6, 6, 1], activation="sigmoid")
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    calls = []
    original = model.compute_gradients

    def spy(x, y, sample_weight=None):
        calls.append(1)
        return original(x, y, sample_weight)

    model.compute_gradients = spy
    probe = GradientNormLogger(X, Y)
    model.fit(X, Y, epochs=1, batch_size=32, verbose=0, callbacks=[probe])
    assert calls  # the δ-rule gradients were used
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=X, y=Y, y_pred=model(X))
    grads = tape.gradient(loss, model.kernels)
    for w, g in zip(model.kernels, grads):
        assert probe.norms[w.path][-1] == pytest.approx(
            float(np.linalg.norm(g.numpy())), rel=1e-4
        )


GRADS = [
    np.array([[3.0, -4.0], [0.5, 0.1]], "float32"),
    np.array([0.2, -12.0], "float32"),
]


def _keras_step(**clip):
    """The update SGD(lr=1) with Keras's clipping applies to zero weights."""
    variables = [keras.Variable(np.zeros_like(g)) for g in GRADS]
    opt = keras.optimizers.SGD(1.0, **clip)
    opt.apply([keras.ops.convert_to_tensor(g) for g in GRADS], variables)
    return [-v.numpy() for v in variables]


@pytest.mark.parametrize(
    "fn,clip",
    [
        (lambda g: clip_by_value(g, 1.0), {"clipvalue": 1.0}),
        (lambda g: clip_by_norm(g, 2.0), {"clipnorm": 2.0}),
        (lambda g: clip_by_global_norm(g, 5.0), {"global_clipnorm": 5.0}),
    ],
    ids=["value", "norm", "global_norm"],
)
def test_clipping_equals_keras_optimizer_clipping(fn, clip):
    ours = [keras.ops.convert_to_numpy(g) for g in fn(GRADS)]
    for a, b in zip(ours, _keras_step(**clip)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_clipping_formulas():
    by_value = clip_by_value(GRADS, 1.0)
    np.testing.assert_allclose(by_value[1], [0.2, -1.0])
    by_norm = clip_by_norm(GRADS, 2.0)
    norms = [np.linalg.norm(g) for g in GRADS]
    for g, c, n in zip(GRADS, by_norm, norms):
        np.testing.assert_allclose(c, g * 2.0 / max(n, 2.0), rtol=1e-6)
    total = np.sqrt(sum(n**2 for n in norms))
    assert float(global_norm(GRADS)) == pytest.approx(total, rel=1e-6)
    clipped = clip_by_global_norm(GRADS, 5.0)
    assert float(global_norm(clipped)) == pytest.approx(5.0, rel=1e-6)
    # Direction kept: every tensor scaled by the same factor.
    np.testing.assert_allclose(clipped[0], GRADS[0] * 5.0 / total, rtol=1e-6)
    small = clip_by_global_norm(GRADS, 100.0)
    np.testing.assert_allclose(small[1], GRADS[1], rtol=1e-6)


def test_invalid_args_raise():
    with pytest.raises(ValueError, match="clip_value"):
        clip_by_value(GRADS, 0.0)
    with pytest.raises(ValueError, match="clip_norm"):
        clip_by_norm(GRADS, -1)
    with pytest.raises(ValueError, match="x and y"):
        GradientNormLogger(None, Y)
