"""Fast paths of the Transformer blocks' sublayers (TensorFlow).

`Dense`, `Dropout` and `LayerNormalization` below are Keras's layers
(same constructor, weights, config and numbers) whose `call` takes a
faster route while `refnn.kernels.enabled()`:

* `Dense`: `x @ kernel` on `(B, T, D)` as one 2-D matmul (a 3-D
  `ops.matmul` becomes `tensordot`, a dozen shape ops, on TensorFlow);
* `Dropout`: the mask from `kernels.dropout.fast_dropout`;
* `LayerNormalization`: its backward pass written out (fewer passes
  over `(B, T, H)` than differentiating the forward ops one by one).

Otherwise (fast path off, another backend, LoRA or a quantized `Dense`,
an RMS or uncentred norm) they call Keras's own `call`. Proved equal to
Keras's layers (outputs and gradients) by
`tests/kernels/transformer_test.py`.
"""

import keras
from keras import ops

from refnn import kernels
from refnn.kernels.dropout import fast_dropout


def linear(x, kernel, bias=None, activation=None):
    """`activation(x @ kernel + bias)` for `x` `(..., D)` as one 2-D matmul.

    `kernel` is `(D, K)`, `bias` broadcasts to `K`.
    """
    shape = ops.shape(x)
    y = ops.matmul(ops.reshape(x, (-1, kernel.shape[0])), kernel)  # (B*T, K)
    if bias is not None:
        y = y + ops.reshape(bias, (-1,))
    if activation is not None:
        y = activation(y)
    return ops.reshape(y, tuple(shape[:-1]) + (kernel.shape[-1],))


def apply_dense(layer, x):
    """A built `keras.layers.Dense` on `x`: `linear` on the fast path,
    `layer(x)` otherwise."""
    if kernels.enabled() and not _is_modified(layer) and len(x.shape) > 2:
        return linear(x, layer.kernel, layer.bias, layer.activation)
    return layer(x)


def _is_modified(layer):
    return layer.lora_enabled or layer.quantization_mode is not None


class Dense(keras.layers.Dense):
    """`keras.layers.Dense`, with `linear` as its fast path."""

    def call(self, inputs, training=None):
        if kernels.enabled() and not _is_modified(self) and inputs.ndim > 2:
            return linear(inputs, self.kernel, self.bias, self.activation)
        return super().call(inputs, training=training)


class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout`, with `fast_dropout` as its fast path."""

    def call(self, inputs, training=False):
        fast = kernels.enabled() and self.noise_shape is None
        if fast and training and self.rate > 0:
            return fast_dropout(inputs, self.rate, seed=self.seed_generator)
        return super().call(inputs, training=training)


class LayerNormalization(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` (last axis), with its backward
    pass written out as its fast path:

        x̂ = (x - μ) / √(σ² + ε)        y = γ x̂ + β
        g' = g γ      ∂L/∂x = (g' - mean(g') - x̂ mean(g' x̂)) / √(σ² + ε)
        ∂L/∂γ = Σ g x̂                ∂L/∂β = Σ g

    computed in at least float32, like Keras.
    """

    def call(self, inputs):
        axes = (
            self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]
        )
        last_axis_only = list(axes) in ([-1], [len(inputs.shape) - 1])
        plain = self.center and self.scale and not self.rms_scaling
        if not (kernels.enabled() and plain and last_axis_only):
            return super().call(inputs)
        dtype = inputs.dtype
        compute_dtype = keras.backend.result_type(dtype, "float32")
        gamma = ops.cast(self.gamma, compute_dtype)
        beta = ops.cast(self.beta, compute_dtype)
        x = ops.cast(inputs, compute_dtype)
        return ops.cast(_layer_norm(x, gamma, beta, self.epsilon), dtype)


def _layer_norm(x, gamma, beta, epsilon):
    @ops.custom_gradient
    def norm(x, gamma, beta):
        mean = ops.mean(x, axis=-1, keepdims=True)  # (B, T, 1)
        centered = x - mean
        variance = ops.mean(ops.square(centered), axis=-1, keepdims=True)
        inv = ops.rsqrt(variance + epsilon)  # (B, T, 1)
        x_hat = centered * inv
        outputs = x_hat * gamma + beta

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            g = upstream * gamma
            dx = inv * (
                g
                - ops.mean(g, axis=-1, keepdims=True)
                - x_hat * ops.mean(g * x_hat, axis=-1, keepdims=True)
            )
            axes = tuple(range(len(x.shape) - 1))
            d_gamma = ops.sum(upstream * x_hat, axis=axes)
            d_beta = ops.sum(upstream, axis=axes)
            return dx, d_gamma, d_beta

        return outputs, grad

    return norm(x, gamma, beta)
