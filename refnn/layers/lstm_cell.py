"""The Long Short-Term Memory cell."""

import keras
from keras import ops

from refnn.layers.base_rnn import (
    BaseRNNCell,
    check_bool,
    check_implementation,
)


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

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(LSTMCell(4), return_state=True)
    >>> out, h, c = rnn(np.ones((2, 5, 3)))
    >>> tuple(out.shape), tuple(c.shape)
    ((2, 4), (2, 4))

    References:
        seeds/002_e8e42c835faa4e59.txt, "1. Recurrent Neural Networks
        (RNN)": "LSTM - Gates: Input, Forget, Output - Cell state for
        long-term memory".
    """

    num_gates = 4

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
        self.unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias)

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

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": keras.activations.serialize(
                self.recurrent_activation
            ),
            "unit_forget_bias": self.unit_forget_bias,
            "implementation": self.implementation,
        }
