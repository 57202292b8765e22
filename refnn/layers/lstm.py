"""The LSTM sequence layer."""

import keras

from refnn.layers.base_rnn import BaseRNN, check_use_cudnn
from refnn.layers.lstm_cell import LSTMCell


@keras.saving.register_keras_serializable(package="refnn")
class LSTM(BaseRNN):
    """Long Short-Term Memory layer, a drop-in `keras.layers.LSTM`.

    Runs `LSTMCell` over the time axis:

        z_t = x_t @ kernel + bias + h_{t-1} @ recurrent_kernel
        c_t = σ(z_f) * c_{t-1} + σ(z_i) * tanh(z_g)
        h_t = σ(z_o) * tanh(c_t)

    Same constructor, call signature, weights (`cell.kernel`,
    `cell.recurrent_kernel`, `cell.bias`) and masking semantics as
    `keras.layers.LSTM`, so `set_weights(keras_lstm.get_weights())` gives
    identical outputs. Built for speed: `x @ kernel + bias` is computed
    for all time steps in one matmul before the loop, each step does a
    single fused `h @ recurrent_kernel`, dropout masks are drawn once per
    sequence. On the fast path (TensorFlow, default activations,
    `refnn.config.set_fast_path(True)`, the default) the backward pass is
    written by hand with the recurrent-kernel gradient as one matmul over
    all steps, and the batch runs as independent slices, one per core
    (`refnn/kernels/fused_rnn.py`). Compiles with
    `jit_compile=True`; runs under JAX through `keras.ops.scan`. On CPU,
    training is fastest with `model.compile(..., jit_compile=True)`
    (Keras's default `"auto"` leaves XLA off on machines without a GPU):
    about 1.8× Keras's LSTM, against about 1.15× without XLA (README,
    Benchmarks).

    Args:
        units: positive integer, dimensionality of the output space.
        activation, recurrent_activation, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, unit_forget_bias,
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout,
        recurrent_dropout, seed: as in `LSTMCell`. One recurrent-dropout
            mask is shared by the four gates (Keras draws one per gate).
        activity_regularizer: regularizer of the layer's output.
        return_sequences: return the full sequence `(batch_size,
            sequence_length, units)` instead of the last output.
        return_state: also return the final states `h` and `c`.
        go_backwards: process the sequence backwards and return the
            reversed sequence.
        stateful: if `True`, the final states of a batch are the initial
            states of the next batch (sample `i` to sample `i`); needs a
            static batch size; `reset_states()` zeroes them.
        unroll: `True` always unrolls the time loop (needs a static
            sequence length). With `False` (default), short static
            sequences are still unrolled outside XLA on the
            fast path (`refnn/kernels/fused_rnn.py`).
        zero_output_for_mask: with `return_sequences`, output zeros at
            masked steps instead of repeating the previous output
            (`keras.layers.Bidirectional` sets it).
        use_cudnn: `"auto"` or `False` (refnn has no cuDNN kernel;
            `True` raises `ValueError`).
        implementation: `1` or `2`, accepted for Keras compatibility; the
            arithmetic is the same (refnn always runs the fused form).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        sequences: `(batch_size, sequence_length, input_dim)`.
        initial_state: optional list `[h_0, c_0]`, each
            `(batch_size, units)`; zeros by default.
        mask: optional boolean `(batch_size, sequence_length)`; masked steps
            keep the states and repeat the previous output (zeros before
            the first unmasked step). Left and right padding both work.
        training: whether dropout is active.

    Returns:
        `output` (`(batch_size, units)`, or `(batch_size, sequence_length,
        units)` with `return_sequences`), followed by `h` and `c` when
        `return_state=True`.

    Example:

    >>> import numpy as np
    >>> lstm = LSTM(4, return_sequences=True, return_state=True)
    >>> seq, h, c = lstm(np.ones((2, 5, 3)))
    >>> tuple(seq.shape), tuple(h.shape), tuple(c.shape)
    ((2, 5, 4), (2, 4), (2, 4))

    References:
        seeds/002_e8e42c835faa4e59.txt, "1. Recurrent Neural Networks
        (RNN)", "2. LSTM (Long Short-Term Memory)"; "Challenges with RNNs"
        (LSTM retains information over longer sequences).
    """

    cell_class = LSTMCell
    cell_name = "lstm_cell"
    cell_arg_names = (
        "units",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "unit_forget_bias",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
        "seed",
        "implementation",
    )

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
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        cell_kwargs = dict(
            implementation=kwargs.pop("implementation", 2),
            units=units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
        )
        super().__init__(
            cell_kwargs,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.use_cudnn = check_use_cudnn(use_cudnn)

    def get_config(self):
        return {**super().get_config(), "use_cudnn": self.use_cudnn}
