"""Batch, stochastic and mini-batch gradient descent as tf.data pipelines."""

import math

import numpy as np
import tensorflow as tf

MODES = ("full", "stochastic", "minibatch")


def gradient_descent_dataset(x, y, mode="minibatch", batch_size=32, seed=None):
    """A `tf.data.Dataset` whose batches give the chosen gradient-descent mode.

    One `model.fit` epoch over the dataset then performs:

    * `"full"` — batch gradient descent: one step per epoch on all `m`
      records ("we take our input (all of our data) and run it through the
      entire neural network", then one update);
    * `"stochastic"` — one step per record (batch size 1), records visited in
      a new random order every epoch;
    * `"minibatch"` — `⌈m / batch_size⌉` steps per epoch on shuffled
      mini-batches, each the average gradient of its records.

    Args:
        x: features, array of shape `(num_records, ...)`.
        y: targets, array with the same first dimension.
        mode: `"full"`, `"stochastic"` or `"minibatch"`.
        batch_size: mini-batch size (used by `"minibatch"` only).
        seed: shuffling seed; the order changes every epoch but the sequence
            of orders is reproducible for a given seed.

    Returns:
        A batched `tf.data.Dataset` of `(x, y)`; its `cardinality()` is the
        number of updates per epoch.

    Example:

    ```python
    ds = gradient_descent_dataset(x, y, mode="stochastic", seed=0)
    model.fit(ds, epochs=5)  # len(x) updates per epoch
    ```

    References:
        seeds/002 "Batch Gradient Descent" and "Stochastic Gradient Descent";
        seeds/000 "Minibatch Gradient Descent: Advantages over Full-Batch
        Gradient Descent"; seeds/001 "Batch Training vs SGD".
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(
            f"x must hold at least one record, got shape {x.shape}."
        )
    if len(x) != len(y):
        raise ValueError(
            f"x and y must have the same number of records, got {len(x)} "
            f"and {len(y)}."
        )
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or (batch_size <= 0)
    ):
        raise ValueError(
            f"batch_size must be a positive integer, got {batch_size!r}."
        )
    m = len(x)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if mode == "full":
        return ds.batch(m)
    ds = ds.shuffle(m, seed=seed, reshuffle_each_iteration=True)
    size = 1 if mode == "stochastic" else batch_size
    return ds.batch(size).prefetch(tf.data.AUTOTUNE)


def updates_per_epoch(num_records, mode, batch_size=32):
    """Number of weight updates one epoch makes in `mode`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
    if mode == "full":
        return 1
    if mode == "stochastic":
        return num_records
    return math.ceil(num_records / batch_size)
