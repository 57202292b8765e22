"""Data check: the first NaN or infinity, with its index, as a clear error."""

import numpy as np


def check_finite(x, name="x"):
    """Raises `ValueError` if `x` holds a NaN or an infinity.

    Non-finite inputs or labels turn the loss into NaN a few steps later, far
    from their cause; this check names the argument, the index of the first
    offending entry (row-major order) and its value.

    Args:
        x: an array-like (numpy array, tensor, nested list) of numbers.
        name: the argument's name used in the message.

    Returns:
        `x` unchanged, so the call can wrap an expression.

    Example:

    >>> check_finite(np.array([[0.0, 1.0], [np.nan, 2.0]]), "features")
    Traceback (most recent call last):
    ...
    ValueError: features must be finite, got nan at index (1, 0).

    References:
        seeds/000 "Gradient-Based Optimization" (numerical instability).
    """
    array = np.asarray(x)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(
            f"{name} must be numeric, got an array of dtype {array.dtype}."
        )
    if not np.issubdtype(array.dtype, np.inexact):
        return x  # integers and booleans are always finite
    bad = ~np.isfinite(array)
    if bad.any():
        flat = int(np.argmax(bad.ravel()))
        index = np.unravel_index(flat, array.shape)
        index = tuple(int(i) for i in index)
        value = array.ravel()[flat]
        raise ValueError(
            f"{name} must be finite, got {value} at index {index}."
        )
    return x
