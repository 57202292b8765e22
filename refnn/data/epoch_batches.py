"""Batches whose order depends only on (seed, epoch): resumable training.

`make_dataset` reshuffles through tf.data's seed state, which restarts with
the process: a run resumed from a checkpoint at epoch k would replay the
order of epoch 0. `EpochBatches` draws epoch e's order from
``numpy.random.default_rng([seed, e])``, so an interrupted run that resumes
at epoch k (``refnn.training.EpochBackup``) sees exactly the batches
of an uninterrupted one and ends with identical weights.
"""

import math

import keras
import numpy as np

from refnn.data.pipeline import check_arrays, check_positive_int


class EpochBatches(keras.utils.PyDataset):
    """Shuffled mini-batches of ``(x, y)``; epoch e is a pure function of e.

    Pass `callback()` to `fit` with it, and ``shuffle=False`` (Keras would
    otherwise shuffle the batch order with Python's unseeded `random`):
    Keras tells the callback which epoch starts (also after a resume), and
    the batches follow.

    Args:
        x: features ``(n, ...)``.
        y: labels or targets ``(n, ...)``.
        batch_size: examples per batch (the last one may be smaller).
        seed: integer seed of every epoch's order.
        shuffle: ``False`` keeps the file order (validation data).

    Example:

    ```python
    batches = EpochBatches(x, y, batch_size=32, seed=0)
    model.fit(batches, epochs=5, shuffle=False, callbacks=[batches.callback()])
    ```
    """

    def __init__(self, x, y, batch_size=32, seed=0, shuffle=True, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("batch_size", batch_size)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {seed!r}.")
        self.x, self.y = check_arrays(x, y)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.shuffle = shuffle
        self.epoch = 0

    @property
    def num_batches(self):
        return math.ceil(len(self.y) / self.batch_size)

    def __len__(self):
        return self.num_batches

    def order(self, epoch):
        """The example indices of `epoch`, in batch order."""
        n = len(self.y)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(n)

    def __getitem__(self, index):
        if not 0 <= index < self.num_batches:
            raise IndexError(
                f"batch index {index} out of range [0, {self.num_batches})."
            )
        rows = self.order(self.epoch)[
            index * self.batch_size : (index + 1) * self.batch_size
        ]
        return self.x[rows], self.y[rows]

    def callback(self):
        """A callback that sets `epoch` when Keras begins each epoch."""
        return _SetEpoch(self)


class _SetEpoch(keras.callbacks.Callback):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.epoch = epoch
