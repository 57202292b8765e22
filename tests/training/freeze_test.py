"""freeze / unfreeze / FreezeSchedule: frozen weights stay bit-identical."""

import keras
import numpy as np
import pytest

from refnn.training import FreezeSchedule, freeze, unfreeze

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 6)).astype("float32") * 3.0 + 1.0
Y = RNG.integers(0, 3, size=(32,))


def _model():
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu", name="features"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Dense(3, activation="softmax", name="head"),
        ]
    )


def _compile(model):
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.5),
        loss="sparse_categorical_crossentropy",
    )


def _snapshot(model, name):
    return [w.copy() for w in model.get_layer(name).get_weights()]


def test_freeze_by_name_and_index():
    model = _model()
    assert freeze(model, up_to="bn") == ["features", "bn"]
    assert [layer.trainable for layer in model.layers] == [False, False, True]
    assert unfreeze(model, up_to=0) == ["features"]
    assert [layer.trainable for layer in model.layers] == [True, False, True]
    freeze(model)
    assert model.trainable_variables == []
    unfreeze(model, up_to=-1)
    assert len(model.trainable_variables) == 6


def test_frozen_kernel_and_batchnorm_statistics_are_bit_identical():
    model = _model()
    freeze(model, up_to="bn")
    _compile(model)
    before = {n: _snapshot(model, n) for n in ("features", "bn", "head")}
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    for name in ("features", "bn"):  # kernel, gamma, beta, moving stats
        for a, b in zip(before[name], _snapshot(model, name)):
            np.testing.assert_array_equal(a, b)
    head = _snapshot(model, "head")
    assert not np.array_equal(before["head"][0], head[0])


class _Record(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(
            {n: _snapshot(self.model, n) for n in ("features", "bn")}
        )


def test_freeze_schedule_freezes_then_fine_tunes():
    model = _model()
    _compile(model)
    initial = {n: _snapshot(model, n) for n in ("features", "bn")}
    record = _Record()
    history = model.fit(
        X,
        Y,
        epochs=4,
        batch_size=8,
        verbose=0,
        callbacks=[FreezeSchedule("bn", epochs=2), record],
    )
    assert history.history["frozen"] == [1.0, 1.0, 0.0, 0.0]
    for epoch in (0, 1):  # frozen phase: nothing moved, BN stats included
        for name in ("features", "bn"):
            for a, b in zip(initial[name], record.weights[epoch][name]):
                np.testing.assert_array_equal(a, b)
    # Fine-tuning phase: kernel and BN moving mean/variance change.
    k1, k3 = record.weights[1]["features"][0], record.weights[3]["features"][0]
    assert not np.array_equal(k1, k3)
    bn1, bn3 = record.weights[1]["bn"], record.weights[3]["bn"]
    assert not np.array_equal(bn1[2], bn3[2])  # moving mean
    assert not np.array_equal(bn1[3], bn3[3])  # moving variance
    assert all(layer.trainable for layer in model.layers)


class _NaiveUnfreeze(keras.callbacks.Callback):
    """Flips `trainable` without re-tracing (what FreezeSchedule fixes)."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            unfreeze(self.model, "features")


def test_flipping_trainable_inside_fit_without_retrace_has_no_effect():
    model = _model()
    freeze(model, up_to="features")
    _compile(model)
    before = _snapshot(model, "features")
    model.fit(
        X,
        Y,
        epochs=3,
        batch_size=8,
        verbose=0,
        callbacks=[_NaiveUnfreeze()],
    )
    for a, b in zip(before, _snapshot(model, "features")):
        np.testing.assert_array_equal(a, b)  # still frozen in practice


def test_fine_tune_learning_rate_is_applied():
    model = _model()
    _compile(model)
    model.fit(
        X,
        Y,
        epochs=2,
        batch_size=16,
        verbose=0,
        callbacks=[FreezeSchedule(0, 1, fine_tune_learning_rate=0.01)],
    )
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda m: freeze(m, up_to="nope"), ValueError, "up_to"),
        (lambda m: freeze(m, up_to=7), ValueError, "up_to"),
        (lambda m: freeze(m, up_to=1.5), TypeError, "up_to"),
        (lambda m: freeze("model"), TypeError, "model"),
        (lambda m: FreezeSchedule("bn", -1), ValueError, "epochs"),
        (lambda m: FreezeSchedule("bn", 1, 0.0), ValueError, "fine_tune"),
    ],
)
def test_invalid_args_raise(call, error, match):
    with pytest.raises(error, match=match):
        call(_model())
