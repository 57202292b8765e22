"""Seed error functions as `keras.losses.Loss` subclasses.

| class | per-sample value (last axis = outputs / classes) |
|---|---|
| `MeanSquaredError` | (1/n) Σ_j (y_j − ŷ_j)²  (as keras's) |
| `SumSquaredError` | ½ Σ_j (y_j − ŷ_j)²  (the seed's E for one data point) |
| `BinaryCrossEntropy` | −(1/n) Σ_j [y_j ln ŷ_j + (1 − y_j) ln(1 − ŷ_j)] |
| `CategoricalCrossEntropy` | −Σ_j y_j ln ŷ_j  (one-hot / probability y) |
| `SparseCategoricalCrossEntropy` | −ln ŷ_c for the integer class c |

The batch reduction is keras's `reduction` argument. The default,
`"sum_over_batch_size"`, averages the per-sample values (the seed's
log-loss −1/N Σ and E = 1/(2m) Σ(y − ŷ)²); `reduction="sum"` sums them
(the seed's cross-entropy −Σ ln p and SSE E = ½ ΣΣ(y − ŷ)²).

Numerical stability: probabilities are clipped to [ε, 1 − ε] with
ε = `keras.config.epsilon()` as keras does; with `from_logits=True` the
logsumexp / softplus forms are used, finite for logits of any size. With
logits the gradient w.r.t. the logits is the seed's δ = ŷ − y.

Example:

>>> from refnn import losses
>>> y = [[1.0], [1.0], [0.0], [0.0]]
>>> p = [[0.6], [0.2], [0.9], [0.3]]  # P(true class) = .6, .2, .1, .7
>>> round(float(losses.BinaryCrossEntropy(reduction="sum")(y, p)), 1)
4.8

References:
    seed 002, "Log-Loss Error Function", "Cross-Entropy", "Multi-Class
    Cross-Entropy", "Gradient Descent with Squared Errors", "Mean Square
    Error"; seed 000, "Loss Functions in Depth", "Cross-Entropy Loss".
"""

import keras
from keras import ops

_register = keras.saving.register_keras_serializable(package="refnn")


def _match_rank(y_true, y_pred):
    """Adds or removes a trailing 1-axis so `y_true` has `y_pred`'s rank."""
    if len(y_true.shape) == len(y_pred.shape) - 1:
        y_true = ops.expand_dims(y_true, -1)
    elif len(y_true.shape) == len(y_pred.shape) + 1 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    return y_true


def _clip(p):
    eps = keras.config.epsilon()
    return ops.clip(p, eps, 1.0 - eps)


def mean_squared_error(y_true, y_pred):
    r"""(1/n) Σ_j (y_j − ŷ_j)² over the last axis.

    \[
    E = \frac{1}{n} \sum_{j=1}^{n} (y_j - \hat y_j)^2
    \]

    Args:
        y_true: targets y, shape `(batch_size, n)` (or `(batch_size,)`).
        y_pred: predictions ŷ of the same shape.

    Returns:
        The per-sample loss, shape `(batch_size,)`.

    Example:

    >>> [float(v) for v in mean_squared_error([[1.0, 0.0]], [[0.5, 0.5]])]
    [0.25]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = _match_rank(ops.cast(y_true, y_pred.dtype), y_pred)
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def sum_squared_error(y_true, y_pred):
    r"""½ Σ_j (y_j − ŷ_j)² over the last axis.

    \[
    E = \tfrac{1}{2} \sum_{j=1}^{n} (y_j - \hat y_j)^2
    \]

    Args:
        y_true: targets y, shape `(batch_size, n)` (or `(batch_size,)`).
        y_pred: predictions ŷ of the same shape.

    Returns:
        The per-sample loss, shape `(batch_size,)`.

    Example:

    >>> [float(v) for v in sum_squared_error([[1.0, 0.0]], [[0.5, 0.5]])]
    [0.25]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = _match_rank(ops.cast(y_true, y_pred.dtype), y_pred)
    return 0.5 * ops.sum(ops.square(y_true - y_pred), axis=-1)


def binary_cross_entropy(y_true, y_pred, from_logits=False):
    r"""−[y ln ŷ + (1 − y) ln(1 − ŷ)] averaged over the last axis.

    \[
    E = -\frac{1}{n} \sum_{j=1}^{n}
    \big[\, y_j \ln \hat y_j + (1 - y_j) \ln (1 - \hat y_j) \,\big]
    \]

    With `from_logits=True`, `y_pred` is z and ŷ = σ(z); the value is
    computed as max(z, 0) − zy + ln(1 + e^−|z|), finite for any z.

    Args:
        y_true: targets y, shape `(batch_size, n)` (or `(batch_size,)`).
        y_pred: predictions ŷ of the same shape (probabilities, or logits z).
        from_logits: whether `y_pred` holds logits z rather than σ(z).

    Returns:
        The per-sample loss, shape `(batch_size,)`.

    Example:

    >>> [round(float(v), 4) for v in binary_cross_entropy([[1.0]], [[0.6]])]
    [0.5108]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = _match_rank(ops.cast(y_true, y_pred.dtype), y_pred)
    if from_logits:
        z = y_pred
        bce = ops.relu(z) - z * y_true + ops.log1p(ops.exp(-ops.abs(z)))
    else:
        p = _clip(y_pred)
        bce = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    return ops.mean(bce, axis=-1)


def categorical_cross_entropy(y_true, y_pred, from_logits=False):
    r"""−Σ_j y_j ln ŷ_j over the last axis (one-hot or soft `y_true`).

    \[
    E = -\sum_{j} y_j \ln \hat y_j
    \]

    Probabilities are renormalized to sum to 1 and clipped, as keras does;
    with `from_logits=True`, ln ŷ = z − logsumexp(z).

    Args:
        y_true: targets y, shape `(batch_size, n)` (or `(batch_size,)`).
        y_pred: predictions ŷ of the same shape (probabilities, or logits z).
        from_logits: whether `y_pred` holds logits z rather than softmax(z).

    Returns:
        The per-sample loss, shape `(batch_size,)`.

    Example:

    >>> y, p = [[0.0, 1.0, 0.0]], [[0.2, 0.7, 0.1]]
    >>> [round(float(v), 4) for v in categorical_cross_entropy(y, p)]
    [0.3567]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    if from_logits:
        log_p = y_pred - ops.logsumexp(y_pred, axis=-1, keepdims=True)
    else:
        p = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        log_p = ops.log(_clip(p))
    return -ops.sum(y_true * log_p, axis=-1)


def sparse_categorical_cross_entropy(y_true, y_pred, from_logits=False):
    r"""−ln ŷ_c for integer labels c, shape `(batch_size,)` or `(B, 1)`.

    \[
    E = -\ln \hat y_{c}
    \]

    Args:
        y_true: integer class labels c, shape `(batch_size,)` or
            `(batch_size, 1)`.
        y_pred: probabilities (or logits) over the classes, shape
            `(batch_size, num_classes)`.
        from_logits: whether `y_pred` holds logits z rather than softmax(z).

    Returns:
        The per-sample loss, shape `(batch_size,)`.

    Example:

    >>> p = [[0.2, 0.7, 0.1]]
    >>> [round(float(v), 4) for v in sparse_categorical_cross_entropy([1], p)]
    [0.3567]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, "int32")
    if len(y_true.shape) == len(y_pred.shape):
        y_true = ops.squeeze(y_true, -1)
    if from_logits:
        log_p = y_pred - ops.logsumexp(y_pred, axis=-1, keepdims=True)
    else:
        p = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        log_p = ops.log(_clip(p))
    picked = ops.take_along_axis(log_p, ops.expand_dims(y_true, -1), axis=-1)
    return -ops.squeeze(picked, -1)


class _SeedLoss(keras.losses.Loss):
    """Base: `from_logits` flag, validation and config."""

    _fn = None
    _has_logits = True

    def __init__(
        self,
        from_logits=False,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
        **kwargs,
    ):
        if not isinstance(from_logits, bool):
            raise TypeError(f"from_logits must be a bool, got {from_logits!r}.")
        super().__init__(name=name, reduction=reduction, dtype=dtype, **kwargs)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        if self._has_logits:
            return type(self)._fn(y_true, y_pred, from_logits=self.from_logits)
        return type(self)._fn(y_true, y_pred)

    def get_config(self):
        config = super().get_config()
        if self._has_logits:
            config["from_logits"] = self.from_logits
        return config


@_register
class MeanSquaredError(_SeedLoss):
    """Mean squared error (1/n) Σ_j (y_j − ŷ_j)², like keras.

    Args:
        reduction: batch reduction (`"sum_over_batch_size"` averages the
            samples: the seed's MSE (1/m) Σ(y − ŷ)²).
        name: loss name.
        dtype: computation dtype.

    References:
        seed 002, "Mean Squared Error (MSE)"; seed 000, "Mean Squared Error".
    """

    _fn = staticmethod(mean_squared_error)
    _has_logits = False

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="mean_squared_error",
        dtype=None,
        **kwargs,
    ):
        super().__init__(reduction=reduction, name=name, dtype=dtype, **kwargs)


@_register
class SumSquaredError(_SeedLoss):
    """The seed's squared error E = ½ Σ_j (y_j − ŷ_j)² per data point.

    With `reduction="sum"` this is the SSE E = ½ Σ_μ Σ_j (y_j^μ − ŷ_j^μ)²;
    with the default `"sum_over_batch_size"` it is E = 1/(2m) Σ_μ Σ_j …
    (the seed's "Mean Square Error" variant), whose gradient w.r.t. ŷ is
    −(y − ŷ)/m: the δ of the seed's averaged weight step.

    Args:
        reduction: batch reduction, see above.
        name: loss name.
        dtype: computation dtype.

    References:
        seed 002, "Gradient Descent with Squared Errors", "Mean Square Error".
    """

    _fn = staticmethod(sum_squared_error)
    _has_logits = False

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="sum_squared_error",
        dtype=None,
        **kwargs,
    ):
        super().__init__(reduction=reduction, name=name, dtype=dtype, **kwargs)


@_register
class BinaryCrossEntropy(_SeedLoss):
    """Log-loss −[y ln ŷ + (1 − y) ln(1 − ŷ)] (mean over the last axis).

    Args:
        from_logits: whether `y_pred` holds logits z (ŷ = σ(z)) instead of
            probabilities.
        reduction: batch reduction (`"sum_over_batch_size"`: the seed's
            −1/N Σ; `"sum"`: the seed's cross-entropy −Σ).
        name: loss name.
        dtype: computation dtype.

    Call arguments:
        y_true: labels in {0, 1}, shape `(batch_size, n)` or `(batch_size,)`.
        y_pred: probabilities or logits, shape `(batch_size, n)`.
        sample_weight: optional per-sample weights.

    References:
        seed 002, "Log-Loss Error Function", "Cross-Entropy"; seed 000,
        "Binary Cross-Entropy".
    """

    _fn = staticmethod(binary_cross_entropy)

    def __init__(self, from_logits=False, name="binary_cross_entropy", **kw):
        super().__init__(from_logits=from_logits, name=name, **kw)


@_register
class CategoricalCrossEntropy(_SeedLoss):
    """Multi-class cross-entropy −Σ_j y_j ln ŷ_j with one-hot `y_true`.

    Args:
        from_logits: whether `y_pred` holds logits (ŷ = softmax(z)).
        reduction: batch reduction (`"sum"` gives the seed's −Σ_i Σ_j).
        name: loss name.
        dtype: computation dtype.

    References:
        seed 002, "Multi-Class Cross-Entropy"; seed 000, "Categorical
        Cross-Entropy".
    """

    _fn = staticmethod(categorical_cross_entropy)

    def __init__(
        self, from_logits=False, name="categorical_cross_entropy", **kw
    ):
        super().__init__(from_logits=from_logits, name=name, **kw)


@_register
class SparseCategoricalCrossEntropy(_SeedLoss):
    """Multi-class cross-entropy −ln ŷ_c with integer class ids c.

    Equal to `CategoricalCrossEntropy` on `one_hot(c)`.

    Args:
        from_logits: whether `y_pred` holds logits (ŷ = softmax(z)).
        reduction: batch reduction.
        name: loss name.
        dtype: computation dtype.

    References:
        seed 002, "Multi-Class Cross-Entropy", "One-Hot Encoding".
    """

    _fn = staticmethod(sparse_categorical_cross_entropy)

    def __init__(
        self, from_logits=False, name="sparse_categorical_cross_entropy", **kw
    ):
        super().__init__(from_logits=from_logits, name=name, **kw)
