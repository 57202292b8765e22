"""Encoder-decoder Transformer with KV-cache greedy decoding."""

import math

import keras
from keras import ops

from refnn.layers import (
    SinePositionalEncoding,
    TransformerDecoderLayer,
    TransformerEncoderLayer,
)
from refnn.models._checks import check_positive_int, check_transformer_args
from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin
from refnn.text.special_tokens import SPECIAL_TOKENS


@keras.saving.register_keras_serializable(package="refnn")
class Transformer(ModelMixin, keras.Model):
    """Encoder-decoder Transformer for sequence-to-sequence tasks.

    Both sides embed token ids and add the sinusoidal positional encoding

        x_t = sqrt(d) E[token_t] + PE(t),
        PE(t, 2i) = sin(t / 10000^(2i/d)),  PE(t, 2i+1) = cos(...)

    The encoder is a stack of blocks (self-attention + feed-forward, each
    with a residual connection and layer normalization) over the source;
    padding (id `pad_token_id`) is masked out. The decoder blocks add masked
    (causal) self-attention and encoder-decoder (cross) attention; a final
    dense layer gives the logits of the next target token:

        p(y_t | y_<t, x) = softmax(W Decoder(y_<t, Encoder(x))_t + b)

    Training uses teacher forcing (`decoder_inputs` = `[SOS] y_1 .. y_n`,
    labels `y_1 .. y_n [EOS]`, see `refnn.data.seq2seq_tasks.encode_pairs`)
    with `SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)`,
    the same data as the RNN `refnn.models.Seq2Seq`. `greedy_decode` emits
    one token per step; with `use_cache=True` each step runs the decoder on
    the new token only, reading earlier keys/values from the self-attention
    cache and the encoder's keys/values from the cross-attention cache.

    Args:
        encoder_vocabulary_size: int, number of source token ids.
        decoder_vocabulary_size: int, number of target token ids.
        encoder_max_length: int, longest source sequence.
        decoder_max_length: int, longest target sequence (also the number of
            greedy decoding steps).
        num_layers: int, number of encoder blocks and of decoder blocks.
        hidden_dim: int, model width `d`.
        num_heads: int, attention heads; must divide `hidden_dim`.
        intermediate_dim: int, feed-forward inner size (default
            `4 * hidden_dim`).
        dropout: float in [0, 1).
        layer_norm_epsilon: float.
        pad_token_id: int, padding id of both sides.
        start_token_id: int, the decoder's first input (`[SOS]`).
        end_token_id: int, the end token (`[EOS]`); greedy decoding pads
            every position after it.
        head_dtype: dtype of the output layer; None (default) is float32
            under a mixed policy and the model's dtype otherwise.
        **kwargs: forwarded to `keras.Model`.

    Call arguments:
        inputs: dict with `encoder_inputs` `(batch_size, source_length)` and
            `decoder_inputs` `(batch_size, target_length)` int ids.
        training: bool, whether dropout is active.

    Returns:
        Logits `(batch_size, target_length, decoder_vocabulary_size)`.

    Example:

    >>> import numpy as np
    >>> model = Transformer(30, 16, encoder_max_length=20,
    ...                     decoder_max_length=12, hidden_dim=32)
    >>> logits = model({"encoder_inputs": np.full((2, 20), 7, "int32"),
    ...                 "decoder_inputs": np.ones((2, 12), "int32")})
    >>> logits.shape  # (batch_size, target_length, decoder_vocabulary_size)
    TensorShape([2, 12, 16])

    Translation: ``model.greedy_decode(source_ids)`` returns int32 ids
    `(batch_size, decoder_max_length)` (not run here: tracing the decode
    loop takes seconds).

    References:
        seeds/002: "Transformer Architecture" (Core Components: encoder,
        decoder with masked self-attention and encoder-decoder attention;
        Key Mechanisms: self-attention, sine/cosine positional encoding;
        Applications: machine translation), "Overview of Transformer Model
        Functionality".
    """

    def __init__(
        self,
        encoder_vocabulary_size,
        decoder_vocabulary_size,
        encoder_max_length,
        decoder_max_length,
        num_layers=2,
        hidden_dim=64,
        num_heads=4,
        intermediate_dim=None,
        dropout=0.1,
        layer_norm_epsilon=1e-5,
        pad_token_id=SPECIAL_TOKENS.pad_id,
        start_token_id=SPECIAL_TOKENS.sos_id,
        end_token_id=SPECIAL_TOKENS.eos_id,
        head_dtype=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.head_dtype = check_head_dtype(head_dtype)
        if intermediate_dim is None:
            intermediate_dim = 4 * hidden_dim
        check_transformer_args(
            hidden_dim,
            num_heads,
            dropout,
            encoder_vocabulary_size=encoder_vocabulary_size,
            decoder_vocabulary_size=decoder_vocabulary_size,
            encoder_max_length=encoder_max_length,
            decoder_max_length=decoder_max_length,
            num_layers=num_layers,
            intermediate_dim=intermediate_dim,
        )
        for name, value in (
            ("pad_token_id", pad_token_id),
            ("start_token_id", start_token_id),
            ("end_token_id", end_token_id),
        ):
            if not isinstance(value, int) or not (
                0 <= value < decoder_vocabulary_size
            ):
                raise ValueError(
                    f"{name} must be an id in [0, decoder_vocabulary_size="
                    f"{decoder_vocabulary_size}), got {value}."
                )
        self.encoder_vocabulary_size = encoder_vocabulary_size
        self.decoder_vocabulary_size = decoder_vocabulary_size
        self.encoder_max_length = encoder_max_length
        self.decoder_max_length = decoder_max_length
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.head_dim = hidden_dim // num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.pad_token_id = pad_token_id
        self.start_token_id = start_token_id
        self.end_token_id = end_token_id

        common = dict(dtype=self.dtype_policy)
        self.encoder_embedding = keras.layers.Embedding(
            encoder_vocabulary_size,
            hidden_dim,
            name="encoder_embedding",
            **common,
        )
        self.decoder_embedding = keras.layers.Embedding(
            decoder_vocabulary_size,
            hidden_dim,
            name="decoder_embedding",
            **common,
        )
        self.position_encoding = SinePositionalEncoding(
            name="position_encoding", **common
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, name="embedding_dropout", **common
        )
        block = dict(
            intermediate_dim=intermediate_dim,
            num_heads=num_heads,
            dropout=dropout,
            layer_norm_epsilon=layer_norm_epsilon,
            **common,
        )
        self.encoder_layers = [
            TransformerEncoderLayer(name=f"encoder_layer_{i}", **block)
            for i in range(num_layers)
        ]
        self.decoder_layers = [
            TransformerDecoderLayer(name=f"decoder_layer_{i}", **block)
            for i in range(num_layers)
        ]
        self.output_layer = keras.layers.Dense(
            decoder_vocabulary_size,
            name="output_layer",
            dtype=head_policy(self, self.head_dtype),
        )
        # Compiled decode loops, kept out of Keras/TF tracking (not saved).
        self._decode_functions = _FunctionCache()

    def build(self, input_shape=None):
        hidden = (None, None, self.hidden_dim)
        self.encoder_embedding.build((None, None))
        self.decoder_embedding.build((None, None))
        for layer in self.encoder_layers:
            layer.build(hidden)
        for layer in self.decoder_layers:
            layer.build(hidden, hidden)
        self.output_layer.build(hidden)
        self.built = True

    # ----------------------------------------------------------- forward
    def _embed(self, embedding, token_ids, start_index=0, training=None):
        x = embedding(token_ids) * math.sqrt(self.hidden_dim)  # (B, T, H)
        x = x + self.position_encoding(x, start_index=start_index)
        return self.embedding_dropout(x, training=training)

    def encode(self, encoder_inputs, training=None):
        """Returns `(encoder_outputs (B, S, H), encoder_padding_mask)`."""
        mask = ops.not_equal(encoder_inputs, self.pad_token_id)  # (B, S)
        x = self._embed(self.encoder_embedding, encoder_inputs, 0, training)
        for layer in self.encoder_layers:
            x = layer(x, padding_mask=mask, training=training)
        return x, mask

    def decode(self, decoder_inputs, encoded, encoder_mask, training=None):
        """Teacher-forced decoder logits `(B, T, V)` (no cache)."""
        x = self._embed(self.decoder_embedding, decoder_inputs, 0, training)
        for layer in self.decoder_layers:
            x = layer(
                x,
                encoded,
                encoder_padding_mask=encoder_mask,
                training=training,
            )
        return self.output_layer(x)

    def call(self, inputs, training=None):
        if not isinstance(inputs, dict):
            raise TypeError(
                "inputs must be a dict with 'encoder_inputs' and "
                f"'decoder_inputs', got {type(inputs).__name__}."
            )
        encoded, mask = self.encode(inputs["encoder_inputs"], training)
        return self.decode(inputs["decoder_inputs"], encoded, mask, training)

    def compute_output_shape(self, input_shape):
        dec = tuple(input_shape["decoder_inputs"])
        return dec + (self.decoder_vocabulary_size,)

    # ------------------------------------------------------------- cache
    def init_cache(self, batch_size, target_length, source_length):
        """Zero caches: `(self_cache, cross_cache)`.

        Shapes `(batch_size, num_layers, 2, target_length, num_heads,
        head_dim)` and the same with `source_length`.
        """
        shape = (batch_size, self.num_layers, 2)
        tail = (self.num_heads, self.head_dim)
        dtype = self.compute_dtype
        return (
            ops.zeros(shape + (target_length,) + tail, dtype=dtype),
            ops.zeros(shape + (source_length,) + tail, dtype=dtype),
        )

    def call_with_cache(
        self, token_ids, encoded, encoder_mask, self_cache, cross_cache, index
    ):
        """Decoder step(s) on new tokens at positions `index, index + 1..`.

        When `index` is the Python int 0 the cross-attention cache is filled
        from `encoded`; later steps reuse it.

        Returns:
            `(logits (B, new_length, V), self_cache, cross_cache)`.
        """
        fill_cross = isinstance(index, int) and index == 0
        x = self._embed(self.decoder_embedding, token_ids, index, False)
        self_caches, cross_caches = [], []
        for i, layer in enumerate(self.decoder_layers):
            x, layer_self, layer_cross = layer(
                x,
                encoded,
                encoder_padding_mask=encoder_mask,
                self_attention_cache=self_cache[:, i, ...],
                self_attention_cache_update_index=index,
                cross_attention_cache=cross_cache[:, i, ...],
                cross_attention_cache_update_index=0 if fill_cross else None,
            )
            self_caches.append(layer_self)
            cross_caches.append(layer_cross)
        return (
            self.output_layer(x),
            ops.stack(self_caches, axis=1),
            ops.stack(cross_caches, axis=1),
        )

    # ---------------------------------------------------------- decoding
    def greedy_decode(
        self, encoder_inputs, max_length=None, use_cache=True, jit_compile=False
    ):
        """Greedy translation of a batch of token ids.

        Args:
            encoder_inputs: int array `(batch_size, source_length)`.
            max_length: decoding steps (default `decoder_max_length`).
            use_cache: bool, decode with the KV caches (default) or by
                recomputing the decoder over the whole prefix every step.
            jit_compile: bool, compile the loop with XLA (TensorFlow).

        Returns:
            int32 array `(batch_size, max_length)`; every position after
            the first `end_token_id` is `pad_token_id`.
        """
        max_length = max_length or self.decoder_max_length
        check_positive_int("max_length", max_length)
        if max_length > self.decoder_max_length:
            raise ValueError(
                f"max_length={max_length} is longer than the model's "
                f"decoder_max_length={self.decoder_max_length}."
            )
        key = (bool(use_cache), bool(jit_compile))
        if key not in self._decode_functions.functions:

            def fn(encoder_inputs, max_length):
                return self.decode_step_loop(
                    encoder_inputs, max_length, use_cache=key[0]
                )

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                fn = tf.function(fn, jit_compile=key[1])
            self._decode_functions.functions[key] = fn
        encoder_inputs = ops.convert_to_tensor(encoder_inputs, "int32")
        ids = self._decode_functions.functions[key](encoder_inputs, max_length)
        return ops.convert_to_numpy(ids)

    def decode_step_loop(self, encoder_inputs, max_length, use_cache=True):
        """The greedy loop in `keras.ops` (traceable; see `greedy_decode`)."""
        encoder_inputs = ops.cast(encoder_inputs, "int32")
        encoded, mask = self.encode(encoder_inputs)
        batch_size = ops.shape(encoder_inputs)[0]
        source_length = ops.shape(encoder_inputs)[1]
        # ids[:, 0] = [SOS]; ids[:, t + 1] = the token predicted at step t.
        ids = ops.concatenate(
            [
                ops.full((batch_size, 1), self.start_token_id, "int32"),
                ops.zeros((batch_size, max_length), "int32"),
            ],
            axis=1,
        )  # (B, 1 + L)

        def pick(logits, step, ids):
            token = ops.cast(ops.argmax(logits, axis=-1), "int32")[:, None]
            return ops.slice_update(ids, (0, step + 1), token)

        if use_cache:
            self_cache, cross_cache = self.init_cache(
                batch_size, max_length, source_length
            )
            logits, self_cache, cross_cache = self.call_with_cache(
                ids[:, :1], encoded, mask, self_cache, cross_cache, 0
            )
            ids = pick(logits[:, 0], 0, ids)

            def body(step, state):
                ids, self_cache = state
                token = ops.slice(ids, (0, step), (batch_size, 1))
                logits, self_cache, _ = self.call_with_cache(
                    token, encoded, mask, self_cache, cross_cache, step
                )
                return pick(logits[:, 0], step, ids), self_cache

            ids, _ = ops.fori_loop(1, max_length, body, (ids, self_cache))
        else:

            def body(step, ids):
                logits = self.decode(ids[:, :-1], encoded, mask)  # (B, L, V)
                return pick(ops.take(logits, step, axis=1), step, ids)

            ids = ops.fori_loop(0, max_length, body, ids)
        return self._pad_after_end(ids[:, 1:])

    def _pad_after_end(self, ids):
        is_end = ops.cast(ops.equal(ids, self.end_token_id), "int32")
        ended_before = ops.cumsum(is_end, axis=1) - is_end  # (B, L)
        return ops.where(ended_before > 0, self.pad_token_id, ids)

    def translate(self, texts, source_tokenizer, target_tokenizer, **kwargs):
        """Greedy translations of a list of strings (character tokenizers
        from `refnn.data.seq2seq_tasks.date_tokenizers`)."""
        ids = source_tokenizer.tokenize(
            list(texts), sequence_length=self.encoder_max_length
        )
        out = self.greedy_decode(ids, **kwargs)
        return target_tokenizer.detokenize(out)

    # ----------------------------------------------------------- serving
    def serving_signatures(self):
        """`serving_default`: `encoder_inputs` -> greedy `token_ids`
        (KV-cached loop in the graph); `teacher_forcing`: `encoder_inputs`,
        `decoder_inputs` -> `logits`. Batch and lengths are variable."""
        from refnn.export.validation import check_token_ids

        ids = ((None, None), "int32")
        n_enc = self.encoder_vocabulary_size
        n_dec = self.decoder_vocabulary_size

        def serve(encoder_inputs):
            return self.serve(
                check_token_ids(encoder_inputs, n_enc, "encoder_inputs")
            )

        def serve_logits(encoder_inputs, decoder_inputs):
            return self.serve_logits(
                check_token_ids(encoder_inputs, n_enc, "encoder_inputs"),
                check_token_ids(decoder_inputs, n_dec, "decoder_inputs"),
            )

        return {
            "serving_default": (serve, {"encoder_inputs": ids}),
            "teacher_forcing": (
                serve_logits,
                {"encoder_inputs": ids, "decoder_inputs": ids},
            ),
        }

    def serve(self, encoder_inputs):
        ids = self.decode_step_loop(encoder_inputs, self.decoder_max_length)
        return {"token_ids": ids}

    def serve_logits(self, encoder_inputs, decoder_inputs):
        inputs = {
            "encoder_inputs": encoder_inputs,
            "decoder_inputs": decoder_inputs,
        }
        return {"logits": self(inputs, training=False)}

    def get_config(self):
        return {
            **super().get_config(),
            "head_dtype": self.head_dtype,
            "encoder_vocabulary_size": self.encoder_vocabulary_size,
            "decoder_vocabulary_size": self.decoder_vocabulary_size,
            "encoder_max_length": self.encoder_max_length,
            "decoder_max_length": self.decoder_max_length,
            "num_layers": self.num_layers,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "pad_token_id": self.pad_token_id,
            "start_token_id": self.start_token_id,
            "end_token_id": self.end_token_id,
        }


class _FunctionCache:
    """A plain holder, so Keras does not track (and export) the functions."""

    def __init__(self):
        self.functions = {}
