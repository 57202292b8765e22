"""The Gated Recurrent Unit cell."""

import keras
from keras import ops

from refnn.layers.base_rnn import (
    BaseRNNCell,
    check_bool,
    check_implementation,
)


@keras.saving.register_keras_serializable(package="refnn")
class GRUCell(BaseRNNCell):
    """Gated Recurrent Unit cell (Cho et al., 2014), Keras's conventions.

    An update gate `z` mixes the previous state with a candidate built
    through a reset gate `r` (gate order `[z, r, h]` along the last axis):

        z = σ(x W_z + b_z + h_{t-1} U_z + b'_z)
        r = σ(x W_r + b_r + h_{t-1} U_r + b'_r)
        reset_after=True:  ĥ = tanh(x W_h + b_h + r * (h_{t-1} U_h + b'_h))
        reset_after=False: ĥ = tanh(x W_h + b_h + (r * h_{t-1}) U_h)
        h_t = z * h_{t-1} + (1 - z) * ĥ

    With `reset_after=True` (the cuDNN-compatible default) `bias` has shape
    `(2, 3 * units)`: row 0 is the input bias `b`, row 1 the recurrent bias
    `b'`; with `reset_after=False` it is `(3 * units,)` and `b'` is absent.
    `kernel` is `(input_dim, 3 * units)`, `recurrent_kernel`
    `(units, 3 * units)`: `set_weights(keras_cell.get_weights())` copies
    a `keras.layers.GRUCell` directly. Usable inside `keras.layers.RNN`.

    Args:
        units: positive integer, dimensionality of the hidden state.
        activation: activation of the candidate. Defaults to `"tanh"`.
        recurrent_activation: activation of the gates. Defaults to
            `"sigmoid"`.
        use_bias: whether to use biases. Defaults to `True`.
        kernel_initializer, recurrent_initializer, bias_initializer:
            weight initializers.
        kernel_regularizer, recurrent_regularizer, bias_regularizer:
            optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint:
            optional constraints.
        dropout: float in `[0, 1)`, dropout rate of the inputs.
        recurrent_dropout: float in `[0, 1)`, dropout rate of `h_{t-1}`.
        reset_after: apply the reset gate after (`True`) or before
            (`False`) the recurrent matmul. Defaults to `True`.
        seed: random seed of the dropout masks.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `(batch_size, input_dim)` input at one time step.
        states: list with the previous state `(batch_size, units)`.
        training: whether dropout is active (fresh masks at every call).

    Returns:
        `(h, [h])`, `h` of shape `(batch_size, units)`.

    Example:

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(GRUCell(4, reset_after=False))
    >>> tuple(rnn(np.ones((2, 5, 3))).shape)
    (2, 4)

    References:
        seeds/002_e8e42c835faa4e59.txt, "1. Recurrent Neural Networks
        (RNN)": "GRU - Simplified version of LSTM - Reset and Update gates".
    """

    num_gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        reset_after=True,
        implementation=2,
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
        self.implementation = check_implementation(implementation)
        self.reset_after = check_bool("reset_after", reset_after)

    def _bias_shape(self):
        if self.reset_after:
            return (2, 3 * self.units)
        return (3 * self.units,)

    def input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def recurrent_params(self):
        kernel = ops.convert_to_tensor(self.recurrent_kernel)
        if self.reset_after:
            rec_bias = None if self.bias is None else self.bias[1]
            return (kernel, rec_bias)
        n = 2 * self.units
        return (kernel[:, :n], kernel[:, n:])

    def step(self, zx, states, params, rec_mask=None):
        h_prev = states[0]
        h = h_prev if rec_mask is None else h_prev * rec_mask
        x_z, x_r, x_h = ops.split(zx, 3, axis=-1)
        gate = self.recurrent_activation
        if self.reset_after:
            kernel, rec_bias = params
            inner = ops.matmul(h, kernel)  # (B, 3 * units)
            if rec_bias is not None:
                inner = inner + rec_bias
            r_z, r_r, r_h = ops.split(inner, 3, axis=-1)
            z = gate(x_z + r_z)
            r = gate(x_r + r_r)
            candidate = self.activation(x_h + r * r_h)
        else:
            kernel_zr, kernel_h = params
            r_z, r_r = ops.split(ops.matmul(h, kernel_zr), 2, axis=-1)
            z = gate(x_z + r_z)
            r = gate(x_r + r_r)
            candidate = self.activation(x_h + ops.matmul(r * h, kernel_h))
        return (z * h_prev + (1.0 - z) * candidate,)

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": keras.activations.serialize(
                self.recurrent_activation
            ),
            "reset_after": self.reset_after,
            "implementation": self.implementation,
        }
