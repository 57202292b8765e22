"""The Long Short-Term Memory cell."""

import keras
from keras import ops

from refnn.layers.base_rnn import BaseRNNCell
from refnn.layers.fused_rnn import flat_matmul_t, sigmoid_grad, tanh_grad


@keras.saving.register_keras_serializable(package="refnn")
class LSTMCell(BaseRNNCell):
    """Long Short-Term Memory cell (Hochreiter & Schmidhuber, 1997).

    Input, forget and output gates control a cell state `c` (long-term
    memory) next to the hidden state `h`, with Keras's gate order
    `[i, f, g, o]` along the last axis of the fused weights:

        z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias
        i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    (σ is `recurrent_activation`, tanh is `activation`.) Weights have
    Keras's names and shapes: `kernel` `(input_dim, 4 * units)`,
    `recurrent_kernel` `(units, 4 * units)`, `bias` `(4 * units,)`, so
    `set_weights(keras.layers.LSTMCell(...).get_weights())` copies
    directly. Usable inside `keras.layers.RNN`.

    Args:
        units: positive integer, dimensionality of `h` and `c`.
        activation: activation of the candidate and of `c` in the output.
            Defaults to `"tanh"`.
        recurrent_activation: activation of the gates. Defaults to
            `"sigmoid"`.
        use_bias: whether to add `bias`. Defaults to `True`.
        kernel_initializer, recurrent_initializer, bias_initializer:
            weight initializers.
        unit_forget_bias: if `True`, the forget-gate bias starts at 1 (the
            other biases at zeros, whatever `bias_initializer`).
        kernel_regularizer, recurrent_regularizer, bias_regularizer:
            optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint:
            optional constraints.
        dropout: float in `[0, 1)`, dropout rate of the inputs.
        recurrent_dropout: float in `[0, 1)`, dropout rate of `h_{t-1}`.
        seed: random seed of the dropout masks.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `(batch_size, input_dim)` input at one time step.
        states: list `[h, c]`, each `(batch_size, units)`.
        training: whether dropout is active (fresh masks at every call).

    Returns:
        `(h, [h, c])`, each of shape `(batch_size, units)`.

    Example:

    >>> rnn = keras.layers.RNN(LSTMCell(4), return_state=True)
    >>> out, h, c = rnn(np.ones((2, 5, 3)))
    >>> out.shape, c.shape
    ((2, 4), (2, 4))

    References:
        seeds/002_e8e42c835faa4e59.txt, "1. Recurrent Neural Networks
        (RNN)": "LSTM - Gates: Input, Forget, Output - Cell state for
        long-term memory".
    """

    num_gates = 4
    # Its residuals are large (a `(B, 4 * units)` block per step): under
    # XLA the unrolled recurrence is faster from 32 rows per batch slice
    # (measured, see `fused_rnn.default_unroll`).
    xla_unroll_min_rows = 32

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        if not isinstance(unit_forget_bias, bool):
            raise TypeError(
                f"unit_forget_bias must be a bool, got {unit_forget_bias!r}."
            )
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, init = self.units, self.bias_initializer

        def bias_initializer(shape, dtype=None):
            return ops.concatenate(
                [
                    init((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    init((2 * units,), dtype=dtype),
                ]
            )

        return bias_initializer

    def step(self, zx, states, params, rec_mask=None):
        (recurrent_kernel,) = params
        h, c = states
        if rec_mask is not None:
            h = h * rec_mask
        z = zx + ops.matmul(h, recurrent_kernel)  # (B, 4 * units)
        z_i, z_f, z_g, z_o = ops.split(z, 4, axis=-1)
        gate = self.recurrent_activation
        c = gate(z_f) * c + gate(z_i) * self.activation(z_g)
        h = gate(z_o) * self.activation(c)
        return (h, c)

    # Hand-written backward pass (see fused_rnn.py), tanh / sigmoid only.
    def supports_fused(self):
        return (
            self.activation is keras.activations.tanh
            and self.recurrent_activation is keras.activations.sigmoid
        )

    def _gate_scale(self):
        """`[1, 1, 2, 1]` per unit: doubles the candidate's columns."""
        u = self.units
        return ops.concatenate(
            [
                ops.ones((2 * u,), self.compute_dtype),
                ops.full((u,), 2.0, self.compute_dtype),
                ops.ones((u,), self.compute_dtype),
            ]
        )

    def fused_inputs(self):
        # The fused step computes all four gates with one sigmoid, using
        # tanh(z) = 2·σ(2z) − 1: the candidate's columns of `kernel`,
        # `bias` and `recurrent_kernel` are doubled (exact in floating
        # point) and autodiff carries the factor into their gradients.
        scale = self._gate_scale()
        (recurrent_kernel,) = self.recurrent_params()
        kernel = ops.convert_to_tensor(self.kernel) * scale
        bias = None if self.bias is None else self.bias * scale

        def project(x):
            return self.project_inputs(x, (kernel, bias))

        return project, (recurrent_kernel * scale,)

    def fused_step(self, zx, states, params, rec_mask=None):
        (recurrent_kernel,) = params  # candidate columns doubled
        h, c_prev = states
        if rec_mask is not None:
            h = h * rec_mask
        z = zx + ops.matmul(h, recurrent_kernel)  # (B, 4 * units)
        # One activation over the whole (B, 4 * units) block: fewer, larger
        # ops (and, under XLA, no per-slice fusions in the loop body).
        a = ops.sigmoid(z)
        i, f, a_g, o = ops.split(a, 4, axis=-1)
        g = 2.0 * a_g - 1.0  # tanh of the candidate's pre-activation
        c = f * c_prev + i * g
        tanh_c = ops.tanh(c)
        h = o * tanh_c
        # Residuals: what the backward step multiplies by, so that it only
        # does dz = p * [dc, dc, dc, dh] (off the forward's critical path,
        # these overlap the next step's matmul). With ∂E/∂a =
        # [dc·g, dc·c_prev, 2·dc·i, dh·tanh(c)] and σ' = a(1 − a):
        p = sigmoid_grad(a, ops.concatenate([g, c_prev, 2.0 * i, tanh_c], -1))
        return (h, c), (p, tanh_grad(tanh_c, o), f)  # q = o·tanh'(c)

    num_residuals = 3

    def fused_step_grad(self, d_states, residual, grad_params, rec_mask):
        (recurrent_kernel_t,) = grad_params
        dh, dc = d_states
        p, q, f = residual
        dc = dc + dh * q  # ∂E/∂c_t
        dz = p * ops.concatenate([dc, dc, dc, dh], axis=-1)
        dh_prev = ops.matmul(dz, recurrent_kernel_t)
        if rec_mask is not None:
            dh_prev = dh_prev * rec_mask
        return dz, (dh_prev, dc * f)

    def fused_param_grads(self, dz, h_prev, residuals, params):
        return dz, (flat_matmul_t(h_prev, dz),)

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": keras.activations.serialize(
                self.recurrent_activation
            ),
            "unit_forget_bias": self.unit_forget_bias,
        }
