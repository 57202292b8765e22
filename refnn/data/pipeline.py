"""Input validation, splits and `tf.data` pipelines for training.

References:
    seeds/000_90a0424528483d14.txt, "Gradient descent" (batch, stochastic
    and mini-batch gradient descent: `batch_size` picks which one `fit`
    runs); seeds/002_e8e42c835faa4e59.txt, "Batch vs stochastic gradient
    descent".
"""

import numpy as np
import tensorflow as tf


def check_positive_int(name, value):
    """Raises `ValueError` unless `value` is a positive int (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < 1
    ):
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _leaves(x):
    return list(x.values()) if isinstance(x, dict) else [x]


def first_non_finite(arr, name):
    """Raises `ValueError` naming `arr`'s first NaN/inf, its index, value."""
    bad = ~np.isfinite(arr)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        index = index[0] if len(index) == 1 else index
        raise ValueError(
            f"{name} contains a non-finite value {arr[bad][0].item()!r} at "
            f"index "
            f"{index} ({int(bad.sum())} non-finite value(s) in total)."
        )


def _check_one(value, name, allow_strings, min_rank):
    if value is None:
        raise TypeError(f"{name} must be an array, got None.")
    arr = np.asarray(value)
    if arr.dtype.kind in "USO":
        if not allow_strings:
            raise TypeError(
                f"{name} must be numeric, got dtype {arr.dtype} "
                f"(first value {arr.flat[0]!r})."
                if arr.size
                else f"{name} must be numeric, got dtype {arr.dtype}."
            )
    elif arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be numeric (bool, int or float), got dtype "
            f"{arr.dtype}."
        )
    if arr.ndim < min_rank:
        raise ValueError(
            f"{name} must have rank >= {min_rank} (batch first), got shape "
            f"{arr.shape}."
        )
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}).")
    if arr.dtype.kind == "f":
        first_non_finite(arr, name)
    return arr


def check_arrays(
    x,
    y=None,
    num_classes=None,
    sample_weight=None,
    allow_strings=False,
    x_min_rank=2,
):
    """Validates training arrays before they reach `fit`.

    Args:
        x: features, shape ``(n, ...)`` (or a dict of such arrays).
        y: optional targets, shape ``(n,)`` or ``(n, k)``.
        num_classes: if given, integer labels must lie in
            ``[0, num_classes)``.
        sample_weight: optional weights, shape ``(n,)``, finite and >= 0.
        allow_strings: accept string features (text pipelines).
        x_min_rank: the minimum rank of `x` (2 for ``(n, features)``).

    Returns:
        ``(x, y)`` as NumPy arrays (dict values converted), unchanged
        otherwise: nothing is coerced.

    Raises:
        TypeError: non-numeric `x` or `y` (e.g. strings).
        ValueError: empty input, wrong rank, mismatched lengths, NaN/inf
            (naming the first non-finite value and its index) or labels
            out of range (naming the first one and its index).
    """
    if isinstance(x, dict):
        if not x:
            raise ValueError("x is an empty dict.")
        x = {
            k: _check_one(v, f"x[{k!r}]", allow_strings, x_min_rank)
            for k, v in x.items()
        }
    else:
        x = _check_one(x, "x", allow_strings, x_min_rank)
    lengths = {}
    for name, arr in x.items() if isinstance(x, dict) else [("x", x)]:
        lengths[name if name == "x" else f"x[{name!r}]"] = arr.shape[0]
    if y is not None:
        y = _check_one(y, "y", False, 1)
        if y.ndim > 2:
            raise ValueError(
                f"y must have shape (n,) or (n, k), got shape {y.shape}."
            )
        lengths["y"] = y.shape[0]
    if sample_weight is not None:
        sample_weight = _check_one(sample_weight, "sample_weight", False, 1)
        if sample_weight.ndim != 1:
            raise ValueError(
                "sample_weight must have shape (n,), got shape "
                f"{sample_weight.shape}."
            )
        if (sample_weight < 0).any():
            i = int(np.argmax(sample_weight < 0))
            raise ValueError(
                "sample_weight must be >= 0, got "
                f"{sample_weight[i].item()!r} at index {i}."
            )
        lengths["sample_weight"] = sample_weight.shape[0]
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "all inputs must have the same number of examples, got "
            + ", ".join(f"{k}: {v}" for k, v in lengths.items())
            + "."
        )
    if num_classes is not None:
        check_positive_int("num_classes", num_classes)
        if y is None:
            raise ValueError("num_classes was given but y is None.")
        if y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
            i = int(np.argmax(y != np.round(y)))
            raise ValueError(
                "y must hold integer class labels, got "
                f"{y.flat[i].item()!r} at index {i}."
            )
        bad = (y < 0) | (y >= num_classes)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            index = index[0] if len(index) == 1 else index
            raise ValueError(
                f"y holds label {y[bad][0].item()!r} at index {index}, outside "
                f"[0, {num_classes})."
            )
    return x, y


def make_dataset(
    x,
    y=None,
    batch_size=32,
    shuffle=True,
    seed=None,
    cache=True,
    drop_remainder=False,
    sample_weight=None,
    num_classes=None,
):
    """A `tf.data` pipeline: cache -> shuffle -> batch -> prefetch.

    `cache` comes first so the shuffle still draws a new order every epoch
    (``reshuffle_each_iteration=True``) over the cached elements; with a
    `seed` the sequence of epoch orders is reproducible.

    Args:
        x: features (array, or dict of arrays for named inputs).
        y: optional targets.
        batch_size: examples per batch: 1 is stochastic gradient descent,
            ``len(x)`` batch gradient descent, in between mini-batch.
        shuffle: shuffle the examples (with a full-size buffer).
        seed: shuffle seed.
        cache: cache the elements in memory after the first epoch.
        drop_remainder: drop the last, smaller batch.
        sample_weight: optional per-example weights, shape ``(n,)``.
        num_classes: if given, integer labels must lie in
            ``[0, num_classes)`` (a label -1 is an error, not a class).

    Returns:
        A `tf.data.Dataset` of ``x``, ``(x, y)`` or
        ``(x, y, sample_weight)`` batches.

    Example:

    ```python
    x, y = blobs(100)
    ds = make_dataset(x, y, batch_size=16, seed=0)
    model.fit(ds, epochs=5)
    ```
    """
    check_positive_int("batch_size", batch_size)
    if sample_weight is not None and y is None:
        raise ValueError("sample_weight needs y, got y=None.")
    x, y = check_arrays(
        x,
        y,
        num_classes=num_classes,
        sample_weight=sample_weight,
        allow_strings=True,
        x_min_rank=1,
    )
    n = _leaves(x)[0].shape[0]
    if sample_weight is not None:
        elements = (x, y, np.asarray(sample_weight))
    elif y is not None:
        elements = (x, y)
    else:
        elements = x
    ds = tf.data.Dataset.from_tensor_slices(elements)
    return batch_pipeline(
        ds,
        n,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        cache=cache,
        drop_remainder=drop_remainder,
    )


def batch_pipeline(
    ds,
    n,
    batch_size=32,
    shuffle=True,
    seed=None,
    cache=True,
    drop_remainder=False,
):
    """cache -> shuffle (buffer `n`) -> batch -> prefetch on any dataset.

    Args:
        ds: an unbatched `tf.data.Dataset` of `n` elements.
        n: its number of elements (the shuffle buffer size).
        batch_size, shuffle, seed, cache, drop_remainder: as `make_dataset`.

    Returns:
        The batched, prefetched `tf.data.Dataset`.
    """
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)


def train_val_test_split(x, y, val=0.15, test=0.15, seed=0, stratify=True):
    """Splits arrays into train, validation and test parts.

    Args:
        x: features, shape ``(n, ...)``.
        y: labels, shape ``(n,)`` (or targets ``(n, k)`` with
            ``stratify=False``).
        val: fraction for validation, in ``[0, 1)``.
        test: fraction for test, in ``[0, 1)``; ``val + test < 1``.
        seed: integer seed.
        stratify: keep the class proportions in every part.

    Returns:
        ``((x_train, y_train), (x_val, y_val), (x_test, y_test))``; parts
        with fraction 0 are empty arrays.
    """
    from sklearn.model_selection import train_test_split

    for name, frac in (("val", val), ("test", test)):
        if isinstance(frac, bool) or not isinstance(frac, (int, float)):
            raise ValueError(
                f"{name} must be a fraction in [0, 1), got {frac!r}."
            )
        if not 0 <= frac < 1:
            raise ValueError(
                f"{name} must be a fraction in [0, 1), got {frac!r}."
            )
    if val + test >= 1:
        raise ValueError(
            f"val + test must be < 1, got val={val} and test={test}."
        )
    x, y = check_arrays(x, y, allow_strings=True, x_min_rank=1)
    n = len(y)
    if stratify:
        if y.ndim != 1 or y.dtype.kind not in "biu":
            raise ValueError(
                "stratify=True needs integer labels of shape (n,), got "
                f"dtype {y.dtype} and shape {y.shape}; pass stratify=False."
            )

    def split(xs, ys, fraction, rng_seed):
        if fraction == 0:
            return (xs, ys), (xs[:0], ys[:0])
        try:
            x_a, x_b, y_a, y_b = train_test_split(
                xs,
                ys,
                test_size=fraction,
                random_state=rng_seed,
                stratify=ys if stratify else None,
            )
        except ValueError as e:
            raise ValueError(
                f"cannot split {len(ys)} examples with a fraction of "
                f"{fraction} (stratify={stratify}): {e}"
            ) from None
        return (x_a, y_a), (x_b, y_b)

    rest, test_part = split(x, y, test, seed)
    val_of_rest = val / (1 - test) if val else 0
    train_part, val_part = split(*rest, val_of_rest, seed + 1)
    assert len(train_part[1]) + len(val_part[1]) + len(test_part[1]) == n
    return train_part, val_part, test_part
