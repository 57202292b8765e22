"""TensorFlow fast paths of refnn's layers, selected here and only here.

The layers in `refnn/layers/` are the reference: the seed's formulas in
`keras.ops`, runnable under any Keras backend. The kernels below do the
same arithmetic faster under TensorFlow, and each reference layer asks
one function of this module whether to use one:

* `fused_rnn` + `rnn_cells`: hand-written BPTT, batch slices per core.
  Used by `SimpleRNN`, `LSTM`, `GRU` (default activations). Proved equal
  by `tests/kernels/fused_rnn_test.py` and
  `test_hand_written_backward_matches_autodiff_with_dropout`
  in `tests/layers/{simple_rnn,lstm,gru}_test.py`.
* `attention`: one-matmul Q/K/V, the mask as an additive bias, one-step
  decoding, a scatter-updated KV cache. Used by `MultiHeadAttention`.
  Proved equal by `tests/kernels/attention_test.py`.
* `dropout.fast_dropout`: 16 random bits per element. Used on attention
  weights and in the Transformer blocks. Proved by
  `tests/kernels/dropout_test.py` (drop rate, scaling, fresh masks).
* `transformer`: 2-D matmuls for `Dense`, a LayerNorm with its gradient
  written out. Used by `TransformerEncoderLayer`,
  `TransformerDecoderLayer` and `GPT`. Proved equal by
  `tests/kernels/transformer_test.py`.

A kernel runs when the backend is TensorFlow and the fast path is on
(`refnn.config.set_fast_path`, on by default). With it off every layer
runs its reference code, which every layer test also passes.

>>> import refnn
>>> with refnn.config.fast_path(False):
...     enabled()
False
"""

import keras

from refnn import config


def enabled():
    """Whether the fast path applies now: TensorFlow backend, switch on."""
    return config.fast_path_enabled() and keras.backend.backend() == (
        "tensorflow"
    )


def rnn_kernel(layer):
    """The hand-written BPTT kernel for a refnn RNN layer, or `None` (the
    reference loop runs). Cells with other than the default activations,
    and layers with `use_fused_gradient = False`, get `None`."""
    if not enabled() or not layer.use_fused_gradient:
        return None
    from refnn.kernels.rnn_cells import kernel_for

    return kernel_for(layer.cell)


from refnn.kernels import fused_rnn  # noqa: E402
