"""Seeded 2-D toy datasets for the perceptron, logistic regression and MLPs.

Every function returns ``(x, y)``: ``x`` float32 of shape ``(n, 2)`` and
``y`` int32 of shape ``(n,)``, identical for identical arguments (a NumPy
``Generator`` seeded with `seed`), in shuffled order.

References:
    seeds/002_e8e42c835faa4e59.txt, "Perceptron" (convergence is guaranteed
    when the data is linearly separable: `blobs(separable=True)`), and
    "Feedforward networks" (non-linear boundaries need hidden layers: `xor`,
    `moons`, `circles`, `spirals`).
"""

import numpy as np


def _check_n(n, minimum=1):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    if n < minimum:
        raise ValueError(f"n must be at least {minimum}, got {n}.")


def _check_noise(noise):
    if isinstance(noise, bool) or not isinstance(noise, (int, float)):
        raise ValueError(f"noise must be a non-negative number, got {noise!r}.")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}.")


def _shuffled(x, y, rng):
    order = rng.permutation(len(y))
    return x[order].astype("float32"), y[order].astype("int32")


def _balanced_labels(n, classes):
    """`n` labels, as even as possible over `classes` (class 0 gets extras)."""
    return np.arange(n) % classes


def blobs(n=200, separable=True, seed=0):
    """Two Gaussian blobs, labels 0 and 1.

    With ``separable=True`` the blobs are centred at (-2, -2) and (2, 2) with
    standard deviation 0.5 and every point lies at least 0.5 from the line
    ``x1 + x2 = 0`` on its class's side, so the classes are linearly
    separable (the perceptron convergence case). With ``separable=False`` the
    centres are (-1, -1) and (1, 1) with standard deviation 1: they overlap.

    Args:
        n: number of points (>= 2).
        separable: whether the classes are guaranteed linearly separable.
        seed: integer seed.

    Returns:
        ``(x, y)``: float32 ``(n, 2)`` and int32 ``(n,)``.

    Example:

    >>> x, y = blobs(100, seed=1)
    >>> x.shape, y.shape
    ((100, 2), (100,))
    """
    _check_n(n, minimum=2)
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n, 2)
    sign = np.where(y == 1, 1.0, -1.0)[:, None]
    if not separable:
        x = sign * 1.0 + rng.normal(size=(n, 2))
        return _shuffled(x, y, rng)
    x = sign * 2.0 + 0.5 * rng.normal(size=(n, 2))
    # Resample the (rare) points closer than 0.5 to the boundary x1 + x2 = 0.
    while True:
        margin = sign[:, 0] * x.sum(axis=1) / np.sqrt(2.0)
        bad = margin < 0.5
        if not bad.any():
            break
        x[bad] = sign[bad] * 2.0 + 0.5 * rng.normal(size=(int(bad.sum()), 2))
    return _shuffled(x, y, rng)


def xor(n=200, noise=0.1, seed=0):
    """Noisy copies of the four XOR corners: label ``x1 XOR x2``.

    Points are the corners (0, 0), (0, 1), (1, 0), (1, 1) (in turn) plus
    Gaussian noise of standard deviation `noise`; the label is 1 for (0, 1)
    and (1, 0). Not linearly separable: a single perceptron fails, one
    hidden layer suffices.

    Args:
        n: number of points (>= 4).
        noise: standard deviation of the Gaussian noise (>= 0).
        seed: integer seed.

    Returns:
        ``(x, y)``: float32 ``(n, 2)`` and int32 ``(n,)``.
    """
    _check_n(n, minimum=4)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float64")
    idx = np.arange(n) % 4
    x = corners[idx] + noise * rng.normal(size=(n, 2))
    y = (corners[idx, 0] != corners[idx, 1]).astype("int32")
    return _shuffled(x, y, rng)


def moons(n=200, noise=0.1, seed=0):
    """Two interleaving half circles (like `sklearn.datasets.make_moons`).

    Class 0: ``(cos t, sin t)``; class 1: ``(1 - cos t, 0.5 - sin t)`` for
    ``t`` evenly spaced in ``[0, pi]``, plus Gaussian noise.

    Args:
        n: number of points (>= 2).
        noise: standard deviation of the Gaussian noise (>= 0).
        seed: integer seed.

    Returns:
        ``(x, y)``: float32 ``(n, 2)`` and int32 ``(n,)``.
    """
    _check_n(n, minimum=2)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    n0 = (n + 1) // 2
    n1 = n - n0
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    x = np.concatenate(
        [
            np.stack([np.cos(t0), np.sin(t0)], axis=1),
            np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    x = x + noise * rng.normal(size=x.shape)
    return _shuffled(x, y, rng)


def circles(n=200, noise=0.05, factor=0.5, seed=0):
    """A small circle (class 1) inside a large one (class 0).

    Args:
        n: number of points (>= 2).
        noise: standard deviation of the Gaussian noise (>= 0).
        factor: radius of the inner circle relative to the outer one, in
            ``(0, 1)``.
        seed: integer seed.

    Returns:
        ``(x, y)``: float32 ``(n, 2)`` and int32 ``(n,)``.
    """
    _check_n(n, minimum=2)
    _check_noise(noise)
    if not isinstance(factor, (int, float)) or not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}.")
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n, 2)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    radius = np.where(y == 1, factor, 1.0)
    x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = x + noise * rng.normal(size=x.shape)
    return _shuffled(x, y, rng)


def spirals(n=300, classes=3, noise=0.1, seed=0):
    """`classes` interleaved spiral arms (the classic CS231n toy problem).

    Arm ``k`` has radius ``r`` in ``[0, 1]`` and angle
    ``4 r + 2 pi k / classes`` plus Gaussian angle noise of standard
    deviation `noise`.

    Args:
        n: number of points (>= classes).
        classes: number of arms / classes (>= 2).
        noise: angle noise (>= 0).
        seed: integer seed.

    Returns:
        ``(x, y)``: float32 ``(n, 2)`` and int32 ``(n,)`` in
        ``[0, classes)``.
    """
    if (
        isinstance(classes, bool)
        or not isinstance(classes, (int, np.integer))
        or classes < 2
    ):
        raise ValueError(f"classes must be an integer >= 2, got {classes!r}.")
    _check_n(n, minimum=classes)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    y = _balanced_labels(n, classes)
    radius = np.empty(n)
    for k in range(classes):
        members = y == k
        radius[members] = np.linspace(0.0, 1.0, int(members.sum()))
    theta = 4.0 * radius + 2 * np.pi * y / classes
    theta = theta + noise * rng.normal(size=n)
    x = radius[:, None] * np.stack([np.sin(theta), np.cos(theta)], axis=1)
    return _shuffled(x, y, rng)
