"""Gradient clipping, the remedy for exploding gradients.

The same three rules Keras optimizers apply with `clipvalue=`, `clipnorm=`
and `global_clipnorm=`, as functions on a list of gradients:

* `clip_by_value(grads, c)`: every entry to `[-c, c]`;
* `clip_by_norm(grads, c)`: each tensor `g ← g · c / max(‖g‖, c)`;
* `clip_by_global_norm(grads, c)`: all tensors by the same factor
  `c / max(‖(g₁, …, gₙ)‖, c)`, which keeps the update's direction.

References:
    seeds/001 "Vanishing and Exploding Gradients" ("Gradient clipping, which
    involves capping the size of gradients during training");
    seeds/000 "Gradient-Based Optimization".
"""

from keras import ops


def _check(name, value):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not value > 0
    ):
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(value)


def clip_by_value(grads, clip_value):
    """Clips every gradient entry to `[-clip_value, clip_value]`.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> (g,) = clip_by_value([np.array([-3.0, 0.5])], 1.0)
    >>> keras.ops.convert_to_numpy(g).tolist()
    [-1.0, 0.5]
    """
    c = _check("clip_value", clip_value)
    return [None if g is None else ops.clip(g, -c, c) for g in grads]


def clip_by_norm(grads, clip_norm):
    """Rescales each gradient tensor whose L2 norm exceeds `clip_norm`."""
    c = _check("clip_norm", clip_norm)
    out = []
    for g in grads:
        if g is None:
            out.append(None)
            continue
        norm = ops.sqrt(ops.sum(ops.square(g)))
        out.append(g * (c / ops.maximum(norm, c)))
    return out


def global_norm(grads):
    """`‖(g₁, …, gₙ)‖ = √Σᵢ‖gᵢ‖²` over all (non-None) gradients."""
    return ops.sqrt(sum(ops.sum(ops.square(g)) for g in grads if g is not None))


def clip_by_global_norm(grads, clip_norm):
    """Rescales all gradients together so their global norm ≤ `clip_norm`."""
    c = _check("clip_norm", clip_norm)
    scale = c / ops.maximum(global_norm(grads), c)
    return [None if g is None else g * scale for g in grads]
