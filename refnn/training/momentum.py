"""Momentum written as the seed's weighted sum of past steps.

The seed defines the momentum step as

    step(n) + β step(n-1) + β² step(n-2) + β³ step(n-3) + ...

where `step(k) = -η ∇L(w_k)` is the plain gradient-descent step. Unrolling
Keras's `SGD(momentum=β)` recursion `v_n = β v_{n-1} - η g_n`,
`w_n = w_{n-1} + v_n` (the seed's "Momentum-Based Escape" rule with μ = β)
gives exactly this sum, which `tests/training/momentum_test.py` checks.

References:
    seeds/002 "Momentum"; seeds/002 "Local Minima and Random Restart"
    (2. Momentum-Based Escape); seeds/000 "Gradient-Based Optimization".
"""

import numpy as np


def momentum_updates(gradients, learning_rate, beta):
    """Weight updates of momentum as the seed's explicit weighted sum.

    For gradients `g_1 … g_N` the n-th update is
    `Σ_{k≤n} β^{n-k} step(k)` with `step(k) = -η g_k`.

    Args:
        gradients: sequence of N gradient arrays of equal shape.
        learning_rate: `η > 0`.
        beta: momentum constant `β` in `[0, 1)`.

    Returns:
        A numpy array of shape `(N, *gradient_shape)`: the update added to
        the weights at each step.

    Example:

    >>> momentum_updates([[1.0], [1.0]], 0.1, 0.5)[:, 0].round(3).tolist()
    [-0.1, -0.15]
    """
    if not (isinstance(beta, (int, float)) and 0.0 <= beta < 1.0):
        raise ValueError(f"beta must be a number in [0, 1), got {beta!r}.")
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(
            f"learning_rate must be a positive number, got {learning_rate!r}."
        )
    steps = -float(learning_rate) * np.asarray(gradients, dtype="float64")
    if steps.ndim == 0 or len(steps) == 0:
        raise ValueError(
            "gradients must be a non-empty sequence of arrays, "
            f"got {gradients!r}."
        )
    updates = np.empty_like(steps)
    for n in range(len(steps)):
        powers = beta ** np.arange(n, -1, -1, dtype="float64")  # β^(n-k)
        updates[n] = np.tensordot(powers, steps[: n + 1], axes=1)
    return updates
