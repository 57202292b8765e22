"""Xavier/Glorot and He weight initializations with the variance they promise.

With `n_avg = (fan_in + fan_out) / 2`:

| initializer | distribution | Var(w) |
|---|---|---|
| `GlorotUniform` | U(−l, l), l = √(3 / n_avg) | 1 / n_avg |
| `GlorotNormal` | N(0, σ²), σ = √(1 / n_avg) | 1 / n_avg |
| `HeUniform` | U(−l, l), l = √(6 / fan_in) | 2 / fan_in |
| `HeNormal` | N(0, σ²), σ = √(2 / fan_in) | 2 / fan_in |

(`1 / n_avg = 2 / (fan_in + fan_out)`.)

Glorot keeps the variance of activations and of back-propagated errors
roughly constant through linear/tanh layers; He doubles it to make up for
ReLU zeroing half of its inputs. Unlike Keras's `GlorotNormal`/`HeNormal`,
which draw from a *truncated* normal with σ divided by 0.8796 (the std of a
standard normal truncated at ±2) to reach the same variance, the normal
variants here draw from the plain normal the formulas are written for.

For a kernel of shape `(..., fan_in, fan_out)` (dense or convolution),
`fan_in` and `fan_out` are multiplied by the receptive-field size
`prod(shape[:-2])`.

References:
    seeds/001 "Vanishing and Exploding Gradients" (solutions: He
    initialization, Xavier initialization) and "Regularization Techniques"
    (Weight Initialization).
"""

import math
import random

import keras

VARIANCE_SCALING = {
    "GlorotUniform": ("fan_avg", "uniform"),
    "GlorotNormal": ("fan_avg", "normal"),
    "HeUniform": ("fan_in", "uniform"),
    "HeNormal": ("fan_in", "normal"),
}


def compute_fans(shape):
    """Returns `(fan_in, fan_out)` of a kernel shape."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class _Scaled(keras.initializers.Initializer):
    def __init__(self, seed=None):
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, int)
        ):
            raise ValueError(f"seed must be an integer or None, got {seed!r}.")
        self.seed = seed
        # Python's `random` is seeded by keras.utils.set_random_seed.
        self._seed = seed if seed is not None else random.randint(0, 2**30)

    def variance(self, shape):
        """The variance `Var(w)` this initializer promises for `shape`."""
        fan_in, fan_out = compute_fans(shape)
        mode, _ = VARIANCE_SCALING[type(self).__name__]
        if mode == "fan_avg":
            return 2.0 / (fan_in + fan_out)  # Glorot
        return 2.0 / fan_in  # He

    def __call__(self, shape, dtype=None):
        var = self.variance(shape)
        _, distribution = VARIANCE_SCALING[type(self).__name__]
        if distribution == "uniform":
            limit = math.sqrt(3.0 * var)  # Var(U(-l, l)) = l² / 3
            return keras.random.uniform(
                shape, -limit, limit, dtype=dtype, seed=self._seed
            )
        return keras.random.normal(
            shape, stddev=math.sqrt(var), dtype=dtype, seed=self._seed
        )

    def get_config(self):
        return {"seed": self.seed}


@keras.saving.register_keras_serializable(package="refnn")
class GlorotUniform(_Scaled):
    """Xavier/Glorot uniform: `U(−l, l)`, `l = √(6 / (fan_in + fan_out))`.

    Args:
        seed: optional integer seed.

    Example:

    >>> w = GlorotUniform(seed=0)((300, 500))  # Var(w) ≈ 2 / 800
    """


@keras.saving.register_keras_serializable(package="refnn")
class GlorotNormal(_Scaled):
    """Xavier/Glorot normal: `N(0, 2 / (fan_in + fan_out))` (not truncated).

    Args:
        seed: optional integer seed.
    """


@keras.saving.register_keras_serializable(package="refnn")
class HeUniform(_Scaled):
    """He uniform: `U(−l, l)`, `l = √(6 / fan_in)`, so `Var(w) = 2 / fan_in`.

    Args:
        seed: optional integer seed.
    """


@keras.saving.register_keras_serializable(package="refnn")
class HeNormal(_Scaled):
    """He normal: `N(0, 2 / fan_in)` (not truncated).

    Args:
        seed: optional integer seed.
    """
