"""EpochBatches: epoch e's batches are a pure function of (seed, e)."""

import time

import keras
import numpy as np
import pytest

from refnn.data import EpochBatches


def _xy(n=10):
    x = np.arange(2 * n, dtype="float32").reshape(n, 2)
    return x, np.arange(n)


class _Recorder(keras.Model):
    """Records the labels of every batch `fit` trains on, in order."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.seen = []

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        self.seen.append(keras.ops.convert_to_numpy(data[1]).tolist())
        return {"batch": len(self.seen)}


class _SlowEpochStart(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        time.sleep(0.2)  # time for a prefetching reader to run ahead


def test_fit_trains_on_each_epochs_own_order():
    x, y = _xy()
    batches = EpochBatches(x, y, batch_size=4, seed=7)
    model = _Recorder()
    model.compile(run_eagerly=True)
    model.fit(
        batches,
        epochs=3,
        shuffle=False,
        callbacks=[batches.callback(), _SlowEpochStart()],
        verbose=0,
    )
    want = []
    for epoch in range(3):
        order = np.random.default_rng([7, epoch]).permutation(10)
        want += [y[order[i : i + 4]].tolist() for i in range(0, 10, 4)]
    assert model.seen == want
    assert model.seen[:3] != model.seen[3:6]  # epochs really differ


def test_validation_batches_keep_the_file_order():
    x, y = _xy(5)
    batches = EpochBatches(x, y, batch_size=2, shuffle=False)
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"seed": 1.5}, "seed must be an integer, got 1.5"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    x, y = _xy()
    with pytest.raises(ValueError, match=message):
        EpochBatches(x, y, **kwargs)
    with pytest.raises(
        IndexError, match=r"batch index 9 out of range \[0, 3\)"
    ):
        EpochBatches(x, y, batch_size=4)[9]
