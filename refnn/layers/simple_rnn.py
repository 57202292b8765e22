"""The simple (Elman) RNN sequence layer."""

import keras

from refnn.layers.base_rnn import BaseRNN
from refnn.layers.simple_rnn_cell import SimpleRNNCell


@keras.saving.register_keras_serializable(package="refnn")
class SimpleRNN(BaseRNN):
    """Fully-connected RNN layer, a drop-in `keras.layers.SimpleRNN`.

    Runs `SimpleRNNCell` over the time axis:

        h_t = tanh(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)

    Its gradient through time is a product of `recurrent_kernel` and
    `tanh'` factors, which vanishes (or explodes) over long sequences.

    Same constructor, call signature, weights (`cell.kernel`,
    `cell.recurrent_kernel`, `cell.bias`) and masking semantics as
    `keras.layers.SimpleRNN`, so `set_weights(keras_rnn.get_weights())` gives
    identical outputs. Built for speed: `x @ kernel + bias` is computed
    for all time steps in one matmul before the loop, each step does a
    single fused `h @ recurrent_kernel`, dropout masks are drawn once per
    sequence. On the fast path (TensorFlow, default activations,
    `refnn.config.set_fast_path(True)`, the default) the backward pass is
    written by hand with the recurrent-kernel gradient as one matmul over
    all steps, and the batch runs as independent slices, one per core
    (`refnn/kernels/fused_rnn.py`). Compiles with
    `jit_compile=True`; runs under JAX through `keras.ops.scan`.

    Args:
        units: positive integer, dimensionality of the output space.
        activation, use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, kernel_regularizer, recurrent_regularizer,
        bias_regularizer, kernel_constraint, recurrent_constraint,
        bias_constraint, dropout, recurrent_dropout, seed: as in
            `SimpleRNNCell`.
        activity_regularizer: regularizer of the layer's output.
        return_sequences: return the full sequence `(batch_size,
            sequence_length, units)` instead of the last output.
        return_state: also return the final state `h`.
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
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        sequences: `(batch_size, sequence_length, input_dim)`.
        initial_state: optional `h_0` (or `[h_0]`), `(batch_size, units)`;
            zeros by default.
        mask: optional boolean `(batch_size, sequence_length)`; masked steps
            keep the states and repeat the previous output (zeros before
            the first unmasked step). Left and right padding both work.
        training: whether dropout is active.

    Returns:
        `output` (`(batch_size, units)`, or `(batch_size, sequence_length,
        units)` with `return_sequences`), followed by `h` when
        `return_state=True`.

    Example:

    >>> import numpy as np
    >>> rnn = SimpleRNN(4, return_sequences=True, return_state=True)
    >>> seq, h = rnn(np.ones((2, 5, 3)))
    >>> tuple(seq.shape), tuple(h.shape)
    ((2, 5, 4), (2, 4))

    References:
        seeds/002_e8e42c835faa4e59.txt, "1. Recurrent Neural Networks
        (RNN)", "1. Simple RNN (Vanilla)"; "Challenges with RNNs" (diminishing
        gradient problem).
    """

    cell_class = SimpleRNNCell
    cell_name = "simple_rnn_cell"
    cell_arg_names = (
        "units",
        "activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
        "seed",
    )

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
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
        **kwargs,
    ):
        kwargs.pop("use_cudnn", None)
        kwargs.pop("implementation", None)
        cell_kwargs = dict(
            units=units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
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
