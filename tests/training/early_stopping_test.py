"""EarlyStopping restores the best weights, also at max epochs."""

import keras
import numpy as np
import pytest

from refnn.training import EarlyStopping

# One weight w, no bias; train target y = x pulls w from 0 towards 1, the
# validation target 0.5·x makes val_loss = (w - 0.5)² smallest mid-way, so
# validation error first falls then rises (the seed's complexity graph).
X = np.ones((4, 1), "float32")


def _model():
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.15), loss="mse")
    return model


class _Recorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.kernels = []

    def on_epoch_end(self, epoch, logs=None):
        self.kernels.append(float(self.model.layers[0].kernel.numpy()[0, 0]))


@pytest.mark.parametrize(
    "cls",
    [EarlyStopping, keras.callbacks.EarlyStopping],
    ids=["refnn", "keras"],
)
def test_restores_best_weights_when_max_epochs_reached(cls):
    model = _model()
    record = _Recorder()
    stop = cls(monitor="val_loss", patience=100, restore_best_weights=True)
    history = model.fit(
        X,
        X,
        validation_data=(X, 0.5 * X),
        epochs=8,
        batch_size=4,
        verbose=0,
        callbacks=[record, stop],
    )
    val = np.array(history.history["val_loss"])
    assert len(val) == 8  # patience never ran out
    best = int(np.argmin(val))
    assert 0 < best < 7  # the Goldilocks point is in the middle
    assert val[-1] > val[best]
    final = float(model.layers[0].kernel.numpy()[0, 0])
    assert final == record.kernels[best]  # bit-identical restore
    assert final != record.kernels[-1]


def test_restores_best_weights_when_stopping_early_and_records_curve():
    model = _model()
    record = _Recorder()
    stop = EarlyStopping(patience=1)
    history = model.fit(
        X,
        X,
        validation_data=(X, 0.5 * X),
        epochs=30,
        batch_size=4,
        verbose=0,
        callbacks=[record, stop],
    )
    val = history.history["val_loss"]
    assert len(val) < 30
    assert stop.monitor_history == pytest.approx(val)
    assert stop.best_epoch == int(np.argmin(val))
    assert stop.restored
    final = float(model.layers[0].kernel.numpy()[0, 0])
    assert final == record.kernels[stop.best_epoch]


def test_invalid_args_raise():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(TypeError, match="patience"):
        EarlyStopping(patience=1.5)
