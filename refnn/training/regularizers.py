"""Weight penalties L1, L2 and elastic net, with their hand-written gradients.

Each class is a `keras.regularizers.Regularizer` (so it plugs into any Keras
layer's `kernel_regularizer=`) and also exposes `gradient(w)`, the derivative
of the penalty with respect to `w`, which explicit-backprop models (e.g.
`refnn.models.MLP`) add to their hand-derived weight gradient.

References:
    seeds/002 "Regularization" (λ(|w₁| + ... + |wₙ|), λ(w₁² + ... + wₙ²));
    seeds/002 "Regularization" second part (L₁/L₂ gradients, elastic net
    α∑|wᵢ| + (1-α)∑wᵢ²); seeds/001 "Regularization Techniques".
"""

import math

import keras
from keras import ops


def _check_strength(name, value):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"{name} must be a non-negative finite number, got {value!r}."
        )
    return float(value)


@keras.saving.register_keras_serializable(package="refnn")
class L1(keras.regularizers.Regularizer):
    """L1 penalty `λ ∑|wᵢ|` (seed: "+λ(|w₁| + ... + |wₙ|)").

    Gradient: `∂Ω/∂w = λ·sign(w)` (the subgradient 0 is used at `w = 0`,
    as `tf.GradientTape` does for `abs`).

    Args:
        l1: the strength λ ≥ 0. Defaults to `0.01`.

    Example:

    >>> reg = L1(0.1)
    >>> float(reg(keras.ops.convert_to_tensor([1.0, -2.0])))  # 0.1 * 3
    0.30000001192092896

    References:
        seeds/002 "Regularization"; equal to `keras.regularizers.L1`.
    """

    def __init__(self, l1=0.01):
        self.l1 = _check_strength("l1", l1)

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        return ops.cast(self.l1, x.dtype) * ops.sum(ops.absolute(x))

    def gradient(self, w):
        """Returns `∂(λ∑|wᵢ|)/∂w = λ·sign(w)`, same shape as `w`."""
        w = ops.convert_to_tensor(w)
        return ops.cast(self.l1, w.dtype) * ops.sign(w)

    def get_config(self):
        return {"l1": self.l1}


@keras.saving.register_keras_serializable(package="refnn")
class L2(keras.regularizers.Regularizer):
    """L2 penalty `λ ∑wᵢ²` (seed: "+λ(w₁² + ... + wₙ²)").

    Note there is no factor ½: the gradient is `∂Ω/∂w = 2λw`, so one SGD step
    is the seed's weight decay `w ← w(1 - 2λη) - η∂L/∂w`. Keras's
    `keras.regularizers.L2(l2)` computes the same `l2 * sum(w²)`.

    Args:
        l2: the strength λ ≥ 0. Defaults to `0.01`.

    Example:

    >>> reg = L2(0.1)
    >>> float(reg(keras.ops.convert_to_tensor([1.0, -2.0])))  # 0.1 * 5
    0.5

    References:
        seeds/002 "Regularization"; equal to `keras.regularizers.L2`.
    """

    def __init__(self, l2=0.01):
        self.l2 = _check_strength("l2", l2)

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        return ops.cast(self.l2, x.dtype) * ops.sum(ops.square(x))

    def gradient(self, w):
        """Returns `∂(λ∑wᵢ²)/∂w = 2λw`, same shape as `w`."""
        w = ops.convert_to_tensor(w)
        return ops.cast(2.0 * self.l2, w.dtype) * w

    def get_config(self):
        return {"l2": self.l2}


@keras.saving.register_keras_serializable(package="refnn")
class ElasticNet(keras.regularizers.Regularizer):
    """Elastic net `λ(α∑|wᵢ| + (1-α)∑wᵢ²)`.

    The seed writes the mix as `α∑|wᵢ| + (1-α)∑wᵢ²`; `l` scales it by λ
    (`l=1` gives the seed's expression). It equals
    `keras.regularizers.L1L2(l1=λα, l2=λ(1-α))`.
    Gradient: `λ(α·sign(w) + 2(1-α)w)`.

    Args:
        l: the overall strength λ ≥ 0. Defaults to `0.01`.
        alpha: the L1 share α in `[0, 1]`. Defaults to `0.5`.

    Example:

    >>> reg = ElasticNet(l=1.0, alpha=0.5)
    >>> float(reg(keras.ops.convert_to_tensor([1.0, -2.0])))  # .5*3 + .5*5
    4.0

    References:
        seeds/002 "Regularization" ("Combined Approaches: Elastic Net").
    """

    def __init__(self, l=0.01, alpha=0.5):  # noqa: E741
        self.l = _check_strength("l", l)
        if (
            isinstance(alpha, bool)
            or not isinstance(alpha, (int, float))
            or not 0.0 <= alpha <= 1.0
        ):
            raise ValueError(
                f"alpha must be a number in [0, 1], got {alpha!r}."
            )
        self.alpha = float(alpha)

    @property
    def l1(self):
        """The equivalent Keras `L1L2` coefficient `λα`."""
        return self.l * self.alpha

    @property
    def l2(self):
        """The equivalent Keras `L1L2` coefficient `λ(1-α)`."""
        return self.l * (1.0 - self.alpha)

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        l1 = ops.cast(self.alpha, x.dtype) * ops.sum(ops.absolute(x))
        l2 = ops.cast(1.0 - self.alpha, x.dtype) * ops.sum(ops.square(x))
        return ops.cast(self.l, x.dtype) * (l1 + l2)

    def gradient(self, w):
        """Returns `λ(α·sign(w) + 2(1-α)w)`, same shape as `w`."""
        w = ops.convert_to_tensor(w)
        a = ops.cast(self.alpha, w.dtype)
        return ops.cast(self.l, w.dtype) * (
            a * ops.sign(w) + 2.0 * (1.0 - a) * w
        )

    def get_config(self):
        return {"l": self.l, "alpha": self.alpha}
