"""The Elman (simple) recurrent cell."""

import keras
from keras import ops

from refnn.layers.base_rnn import BaseRNNCell


@keras.saving.register_keras_serializable(package="refnn")
class SimpleRNNCell(BaseRNNCell):
    """Simple (vanilla) recurrent cell: one tanh update of the hidden state.

    The hidden state is updated from the previous one and the current input:

        h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)

    Weights have Keras's names and shapes (`kernel` `(input_dim, units)`,
    `recurrent_kernel` `(units, units)`, `bias` `(units,)`), so
    `cell.set_weights(keras_cell.get_weights())` copies a
    `keras.layers.SimpleRNNCell` directly. Usable inside `keras.layers.RNN`.

    Args:
        units: positive integer, dimensionality of the hidden state.
        activation: activation of the update. Defaults to `"tanh"`.
        use_bias: whether to add `bias`. Defaults to `True`.
        kernel_initializer: initializer of `kernel`.
        recurrent_initializer: initializer of `recurrent_kernel`.
        bias_initializer: initializer of `bias`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer:
            optional regularizers of the three weights.
        kernel_constraint, recurrent_constraint, bias_constraint:
            optional constraints of the three weights.
        dropout: float in `[0, 1)`, dropout rate of the inputs.
        recurrent_dropout: float in `[0, 1)`, dropout rate of `h_{t-1}`.
        seed: random seed of the dropout masks.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `(batch_size, input_dim)` input at one time step.
        states: list with the previous state `(batch_size, units)`.
        training: whether dropout is active. When the cell runs inside
            `keras.layers.RNN` a fresh mask is drawn at every step; use
            `refnn.layers.SimpleRNN` for one mask per sequence.

    Returns:
        `(h, [h])`, `h` of shape `(batch_size, units)`.

    Example:

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(SimpleRNNCell(4))
    >>> tuple(rnn(np.ones((2, 5, 3))).shape)
    (2, 4)

    References:
        seeds/002_e8e42c835faa4e59.txt, "1. Recurrent Neural Networks
        (RNN)": "Simple RNN (Vanilla) - Basic recurrent structure".
    """

    num_gates = 1

    def step(self, zx, states, params, rec_mask=None):
        (recurrent_kernel,) = params
        h = states[0]
        if rec_mask is not None:
            h = h * rec_mask
        return (self.activation(zx + ops.matmul(h, recurrent_kernel)),)
