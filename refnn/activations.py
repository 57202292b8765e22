"""Seed activation functions and the derivatives used by explicit backprop.

Every function is written with `keras.ops` from the seed formula, in a form
that stays finite for large inputs (no `inf`/`NaN` at ±100, in value or in
autodiff gradient). Names match `keras.activations`, so a config can store
`"sigmoid"` and `get("sigmoid")` gives the refnn function back.

Explicit backpropagation needs f′ with respect to the pre-activation `z`.
`derivative(name)` returns `fn(z, a)` where `a = f(z)` is already known,
so the cheap seed forms are used:

| name | f(z) | f′(z) from (z, a) |
|---|---|---|
| `sigmoid` | 1 / (1 + e^-z) | a (1 − a) |
| `tanh` | (e^z − e^-z) / (e^z + e^-z) | 1 − a² |
| `relu` | max(0, z) | 1[z > 0] |
| `leaky_relu` | z if z > 0 else αz | 1 if z > 0 else α |
| `elu` | z if z > 0 else α(e^z − 1) | 1 if z > 0 else a + α |
| `selu` | λ·elu(z, α) | λ if z > 0 else a + λα |
| `linear` | z | 1 |
| `step` | 1[z ≥ 0] | 0 (almost everywhere) |

Softmax couples its outputs, so it has no elementwise derivative: use
`softmax_vjp(a, upstream)` (or `softmax_jacobian(a)`), or pair it with
cross-entropy, where δ = ŷ − y (see `refnn.losses`).

Example:

>>> import numpy as np
>>> from refnn import activations
>>> z = np.array([-1.0, 0.0, 2.0], "float32")
>>> a = activations.sigmoid(z)
>>> float(activations.derivative("sigmoid")(z, a)[1])
0.25

References:
    seed 002, "Sigmoid Functions", "Multi-Class Classification and Softmax",
    "Calculation of the derivative of the sigmoid function",
    "Activation Functions", "Hyperbolic Tangent", "Rectified Linear Unit
    (ReLU)", "Perceptron Algorithm" (step).
"""

import types

import keras
from keras import ops

_register = keras.saving.register_keras_serializable(package="refnn")

# The SELU constants (Klambauer et al., 2017), as in `keras.activations.selu`.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@_register
def sigmoid(x):
    r"""Sigmoid σ(x) = 1 / (1 + e^-x), output in (0, 1).

    \[
    \sigma(x) = \frac{1}{1 + e^{-x}}, \qquad
    \sigma'(x) = \sigma(x)\,\big(1 - \sigma(x)\big) \le \tfrac{1}{4}
    \]

    Computed as 1 / (1 + e^-x) for x ≥ 0 and e^x / (1 + e^x) for x < 0, so
    the exponent is never positive and nothing overflows.

    Args:
        x: a tensor or array of pre-activations z, any shape.
    Returns:
        σ(x), a tensor of the shape of `x`.

    Example:

    >>> import numpy as np
    >>> [round(float(v), 4) for v in sigmoid(np.array([-2.0, 0.0, 2.0]))]
    [0.1192, 0.5, 0.8808]

    References:
        seed 002, "Sigmoid Functions".
    """
    x = ops.convert_to_tensor(x)
    # e^-|x| in (0, 1], written with `where` (not `abs`) so that the
    # gradient at exactly x = 0 is σ'(0) = 0.25 rather than abs's 0.
    e = ops.exp(ops.where(x >= 0, -x, x))
    return ops.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@_register
def tanh(x):
    r"""Hyperbolic tangent (e^x − e^-x) / (e^x + e^-x), output in (−1, 1).

    \[
    \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}, \qquad
    \tanh'(x) = 1 - \tanh^2(x)
    \]

    Evaluated as (1 − e^-2|x|) / (1 + e^-2|x|) with the sign of x, using
    `expm1` so that small inputs keep full precision.

    Args:
        x: a tensor or array of pre-activations z, any shape.
    Returns:
        tanh(x), a tensor of the shape of `x`.

    Example:

    >>> import numpy as np
    >>> [round(float(v), 4) for v in tanh(np.array([-1.0, 0.0, 1.0]))]
    [-0.7616, 0.0, 0.7616]

    References:
        seed 002, "Hyperbolic Tangent".
    """
    x = ops.convert_to_tensor(x)
    m = ops.where(x >= 0, -2.0 * x, 2.0 * x)  # −2|x|, with slope at 0
    u = ops.expm1(m)  # e^-2|x| − 1 in (−1, 0]
    t = -u / (2.0 + u)  # tanh(|x|)
    return ops.where(x >= 0, t, -t)


@_register
def relu(x):
    r"""Rectified linear unit: x if x ≥ 0 else 0.

    \[
    \operatorname{relu}(x) = \max(0, x), \qquad
    \operatorname{relu}'(x) = \mathbb{1}[x > 0]
    \]

    Args:
        x: a tensor or array of pre-activations z, any shape.
    Returns:
        max(0, x), a tensor of the shape of `x`.

    Example:

    >>> import numpy as np
    >>> [float(v) for v in relu(np.array([-2.0, 0.0, 3.0]))]
    [0.0, 0.0, 3.0]

    References:
        seed 002, "Rectified Linear Unit (ReLU)".
    """
    x = ops.convert_to_tensor(x)
    return ops.where(x > 0, x, ops.zeros_like(x))


@_register
def leaky_relu(x, negative_slope=0.2):
    r"""Leaky ReLU: x if x > 0 else αx (α = `negative_slope`, as keras).

    \[
    f(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}
    \]

    Args:
        x: a tensor or array of pre-activations z, any shape.
        negative_slope: α, the slope for x ≤ 0 (keras's default 0.2).

    Returns:
        f(x), a tensor of the shape of `x`.

    Example:

    >>> import numpy as np
    >>> [round(float(v), 4) for v in leaky_relu(np.array([-1.0, 2.0]))]
    [-0.2, 2.0]

    References:
        seed 002, "Activation Functions" (Modern Variants).
    """
    x = ops.convert_to_tensor(x)
    return ops.where(x > 0, x, negative_slope * x)


@_register
def elu(x, alpha=1.0):
    r"""Exponential linear unit: x if x > 0 else α(e^x − 1).

    \[
    \operatorname{elu}(x) =
    \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}
    \]

    Args:
        x: a tensor or array of pre-activations z, any shape.
        alpha: α, the value elu approaches for x → −∞ is −α.

    Returns:
        elu(x), a tensor of the shape of `x`.

    Example:

    >>> import numpy as np
    >>> [round(float(v), 4) for v in elu(np.array([-1.0, 2.0]))]
    [-0.6321, 2.0]

    References:
        seed 002, "Activation Functions" (Modern Variants).
    """
    x = ops.convert_to_tensor(x)
    # min(x, 0) keeps the unused branch finite, so gradients never see inf.
    return ops.where(x > 0, x, alpha * ops.expm1(ops.minimum(x, 0.0)))


@_register
def selu(x):
    r"""Scaled ELU: λ·elu(x, α) with the self-normalizing constants.

    \[
    \operatorname{selu}(x) = \lambda
    \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases},
    \quad \alpha \approx 1.6733,\ \lambda \approx 1.0507
    \]

    Args:
        x: a tensor or array of pre-activations z, any shape.
    Returns:
        selu(x), a tensor of the shape of `x`.

    Example:

    >>> import numpy as np
    >>> [round(float(v), 4) for v in selu(np.array([-1.0, 1.0]))]
    [-1.1113, 1.0507]

    References:
        seed 002, "Activation Functions" (Modern Variants).
    """
    return SELU_SCALE * elu(x, alpha=SELU_ALPHA)


@_register
def softmax(x, axis=-1):
    r"""Softmax e^(z_i) / Σ_j e^(z_j) along `axis`; outputs sum to 1.

    \[
    \operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}
    \]

    The maximum along `axis` is subtracted first (the ratio is unchanged),
    so no exponent is positive.

    Args:
        x: a tensor or array of scores (logits) z.
        axis: the axis the probabilities sum to 1 along (the last).

    Returns:
        A tensor of the shape of `x` with probabilities.

    Example:

    >>> import numpy as np
    >>> [round(float(v), 4) for v in softmax(np.array([0.0, np.log(3.0)]))]
    [0.25, 0.75]

    References:
        seed 002, "Multi-Class Classification and Softmax".
    """
    x = ops.convert_to_tensor(x)
    e = ops.exp(x - ops.max(x, axis=axis, keepdims=True))
    return e / ops.sum(e, axis=axis, keepdims=True)


@_register
def linear(x):
    r"""Identity activation f(x) = x (f′ = 1).

    Args:
        x: a tensor or array of pre-activations z, any shape.
    Returns:
        `x` as a tensor.

    Example:

    >>> [float(v) for v in linear([-1.0, 2.0])]
    [-1.0, 2.0]
    """
    return ops.convert_to_tensor(x)


@_register
def step(x):
    r"""Heaviside step used by the perceptron: 1.0 if x ≥ 0 else 0.0.

    \[
    \operatorname{step}(x) = \mathbb{1}[x \ge 0]
    \]

    Args:
        x: a tensor or array of pre-activations z, any shape.
    Returns:
        A tensor of 0.0 and 1.0 of the shape and dtype of `x`.

    Example:

    >>> import numpy as np
    >>> [float(v) for v in step(np.array([-0.5, 0.0, 2.0]))]
    [0.0, 1.0, 1.0]

    References:
        seed 002, "Perceptron Algorithm" (ŷ = step(w₁x₁ + w₂x₂ + b)).
    """
    x = ops.convert_to_tensor(x)
    return ops.cast(x >= 0, x.dtype)


# ---------------------------------------------------------------------------
# Derivatives f′(z) given z and a = f(z).


def _sigmoid_prime(z, a):
    return a * (1.0 - a)  # σ′ = σ(1 − σ)


def _tanh_prime(z, a):
    return 1.0 - ops.square(a)  # tanh′ = 1 − tanh²


def _relu_prime(z, a):
    z = ops.convert_to_tensor(z)
    return ops.cast(z > 0, z.dtype)  # 1[z > 0]


def _linear_prime(z, a):
    return ops.ones_like(z)


def _step_prime(z, a):
    return ops.zeros_like(z)


def _leaky_relu_prime(negative_slope=0.2):
    def fn(z, a):
        z = ops.convert_to_tensor(z)
        return ops.where(z > 0, 1.0, negative_slope) * ops.ones_like(z)

    return fn


def _elu_prime(alpha=1.0):
    def fn(z, a):
        # a = α(e^z − 1)  ⇒  a′ = αe^z = a + α for z ≤ 0.
        z = ops.convert_to_tensor(z)
        return ops.where(z > 0, ops.ones_like(z), a + alpha)

    return fn


def _selu_prime(z, a):
    z = ops.convert_to_tensor(z)
    return ops.where(
        z > 0, SELU_SCALE * ops.ones_like(z), a + SELU_SCALE * SELU_ALPHA
    )


_ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "softmax": softmax,
    "linear": linear,
    "step": step,
}

_DERIVATIVES = {
    "sigmoid": lambda **kw: _sigmoid_prime,
    "tanh": lambda **kw: _tanh_prime,
    "relu": lambda **kw: _relu_prime,
    "leaky_relu": _leaky_relu_prime,
    "elu": _elu_prime,
    "selu": lambda **kw: _selu_prime,
    "linear": lambda **kw: _linear_prime,
    "step": lambda **kw: _step_prime,
}

NAMES = tuple(_ACTIVATIONS)


def softmax_vjp(a, upstream, axis=-1):
    """Vector-Jacobian product of softmax: g ↦ Jᵀg with J = diag(a) − aaᵀ.

    Gives ∂L/∂z from ∂L/∂a (`upstream`) as a ⊙ (g − Σ_j g_j a_j).

    Args:
        a: softmax output, any shape.
        upstream: ∂L/∂a, same shape as `a`.
        axis: the softmax axis.

    Returns:
        ∂L/∂z, same shape as `a`.
    """
    dot = ops.sum(upstream * a, axis=axis, keepdims=True)
    return a * (upstream - dot)


def softmax_jacobian(a):
    """Jacobian ∂a_i/∂z_j = a_i(1[i = j] − a_j) of softmax on the last axis.

    Args:
        a: softmax output, shape `(..., num_classes)`.

    Returns:
        Tensor of shape `(..., num_classes, num_classes)`.
    """
    a = ops.convert_to_tensor(a)
    k = ops.shape(a)[-1]
    eye = ops.eye(k, dtype=a.dtype)
    return a[..., :, None] * eye - a[..., :, None] * a[..., None, :]


def serialize(activation):
    """Name of an activation (refnn's or keras's builtin of the same name).

    Args:
        activation: a refnn activation, a `keras.activations` builtin, or a
            name.

    Returns:
        The name string, e.g. `"sigmoid"`; for other callables, whatever
        `keras.activations.serialize` gives.
    """
    if isinstance(activation, str):
        get(activation)  # validates
        return activation
    for name, fn in _ACTIVATIONS.items():
        if activation is fn:
            return name
    name = getattr(activation, "__name__", None)
    if (
        isinstance(activation, types.FunctionType)
        and name in _ACTIVATIONS
        and activation is getattr(keras.activations, name, None)
    ):
        return name
    return keras.activations.serialize(activation)


def get(identifier):
    """Returns the refnn activation named `identifier` (or the callable).

    Args:
        identifier: `None` (linear), a name such as `"sigmoid"`, a keras
            builtin of a seed activation (mapped to the refnn one), any
            other callable (returned as is) or a serialized keras config.

    Returns:
        A callable `f(x)`.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier in _ACTIVATIONS:
            return _ACTIVATIONS[identifier]
        if identifier.startswith("refnn>"):
            return get(identifier[len("refnn>") :])
        raise ValueError(
            f"Unknown activation: identifier={identifier!r}. "
            f"Expected one of {list(_ACTIVATIONS)}."
        )
    if isinstance(identifier, dict):
        return keras.activations.deserialize(identifier)
    if callable(identifier):
        name = getattr(identifier, "__name__", None)
        if name in _ACTIVATIONS and identifier is getattr(
            keras.activations, name, None
        ):
            return _ACTIVATIONS[name]
        return identifier
    raise TypeError(
        "activation must be a name, a callable or None, got "
        f"{identifier!r} of type {type(identifier).__name__}."
    )


deserialize = get


def derivative(identifier, **params):
    """Returns `fn(z, a)`, the derivative f′(z) of an activation.

    Args:
        identifier: name or refnn/keras function of an elementwise seed
            activation.
        **params: parameters of parametric activations
            (`negative_slope` for `leaky_relu`, `alpha` for `elu`).

    Returns:
        A function `fn(z, a)` of the pre-activation `z` and the activation
        value `a = f(z)` returning f′(z) elementwise.

    Raises:
        ValueError: for softmax (use `softmax_vjp`) or unknown activations.
    """
    name = identifier if isinstance(identifier, str) else None
    if name is None:
        fn = get(identifier)
        for key, value in _ACTIVATIONS.items():
            if fn is value:
                name = key
    if name == "softmax":
        raise ValueError(
            "softmax has no elementwise derivative: use "
            "refnn.activations.softmax_vjp(a, upstream), or pair softmax "
            "with cross-entropy where delta = y_pred - y_true; got "
            f"identifier={identifier!r}."
        )
    if name not in _DERIVATIVES:
        raise ValueError(
            f"No derivative known for activation identifier={identifier!r}. "
            f"Known: {sorted(_DERIVATIVES)}."
        )
    return _DERIVATIVES[name](**params)
