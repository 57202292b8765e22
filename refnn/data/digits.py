"""The 8x8 handwritten digits bundled with scikit-learn (offline)."""

import numpy as np


def load_digits(scale=True):
    """Loads scikit-learn's bundled digits: 1797 images of 8x8 pixels.

    Args:
        scale: divide the pixel values (integers 0..16) by 16 so the
            features lie in ``[0, 1]``.

    Returns:
        ``(x, y)``: ``x`` float32 of shape ``(1797, 64)`` (row-major
        pixels), ``y`` int32 of shape ``(1797,)`` with labels 0..9.

    Example:

    >>> x, y = load_digits()
    >>> x.shape, int(y.max())
    ((1797, 64), 9)

    References:
        seeds/002_e8e42c835faa4e59.txt, "Feedforward networks" (multi-class
        classification with softmax and one-hot labels).
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    if not isinstance(scale, bool):
        raise TypeError(f"scale must be a bool, got {scale!r}.")
    bunch = _sk_load_digits()
    x = bunch.data.astype("float32")
    if scale:
        x = x / np.float32(16.0)
    return x, bunch.target.astype("int32")
