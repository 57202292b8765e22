"""Many-to-many encoder-decoder RNN with teacher forcing and greedy decoding."""

import keras
from keras import ops

from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin
from refnn.models.rnn_classifier import check_positive_int, make_rnn
from refnn.text.char_tokenizer import CharTokenizer
from refnn.text.special_tokens import SPECIAL_TOKENS


@keras.saving.register_keras_serializable(package="refnn")
class Seq2Seq(ModelMixin, keras.Model):
    """Character-level encoder-decoder RNN (many-to-many).

    The encoder RNN reads the source and hands its final state to the
    decoder RNN, which emits the target one token at a time:

        h^enc_T = RNN_enc(E_src[x_1..x_T])
        c = h^enc_T;  s_0 = h^enc_T
        s_t = RNN_dec([E_tgt[y_{t-1}], c], s_{t-1})
        p(y_t | y_<t, x) = softmax(W s_t + b)

    The context `c` is fed to the decoder at every step (as in Cho et al.,
    2014), not only as its initial state: the decoder then never has to
    carry the source through its own state, which makes a small model learn
    the date task in seconds.

    Training uses teacher forcing: the decoder input is the true target
    shifted right (`[SOS] y_1 .. y_{n}`), the label is `y_1 .. y_n [EOS]`
    (see `refnn.data.seq2seq_tasks.encode_pairs`); train with
    `SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)`.
    Inference is greedy: feed back the arg-max token until `[EOS]`.

    Args:
        source_vocabulary: characters of the source side (a string or list;
            the shared special tokens are added in front).
        target_vocabulary: characters of the target side.
        embedding_dim: size of the character embeddings.
        units: hidden size of encoder and decoder.
        cell_type: `"lstm"`, `"gru"` or `"simple_rnn"` (refnn's layers).
        max_decode_length: number of greedy decoding steps.
        head_dtype: dtype of the output layer; None (default) is float32
            under a mixed policy and the model's dtype otherwise.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: dict with `encoder_inputs` `(batch_size, source_length)`
            and `decoder_inputs` `(batch_size, target_length)`, int ids,
            0 = padding.
        training: unused (no dropout).

    Returns:
        Logits `(batch_size, target_length, target_vocabulary_size)`.

    Example:

    >>> model = Seq2Seq("abc", "xyz", units=8, max_decode_length=4)
    >>> len(model.translate(["abc", "ca"]))  # untrained: strings over "xyz"
    2

    Serving endpoints (`serving_signatures`): `serving_default`
    (`encoder_inputs` ids -> greedy `token_ids`), `translate` (`text`
    strings -> `translation` strings, core TF ops only) and
    `teacher_forcing` (`encoder_inputs`, `decoder_inputs` -> `logits`).

    References:
        seed 002, "How RNNs Work", "Many-to-Many RNN" (processes an input
        sequence and generates an output sequence token by token; language
        translation).
    """

    def __init__(
        self,
        source_vocabulary,
        target_vocabulary,
        embedding_dim=32,
        units=64,
        cell_type="gru",
        max_decode_length=12,
        head_dtype=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.head_dtype = check_head_dtype(head_dtype)
        self.source_tokenizer = CharTokenizer(source_vocabulary)
        self.target_tokenizer = CharTokenizer(target_vocabulary)
        self.source_vocabulary = "".join(self.source_tokenizer.vocabulary[5:])
        self.target_vocabulary = "".join(self.target_tokenizer.vocabulary[5:])
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.units = check_positive_int("units", units)
        self.cell_type = cell_type
        self.max_decode_length = check_positive_int(
            "max_decode_length", max_decode_length
        )
        n_src = self.source_tokenizer.vocabulary_size
        n_tgt = self.target_tokenizer.vocabulary_size
        self.source_embedding = keras.layers.Embedding(
            n_src, embedding_dim, mask_zero=True, name="source_embedding"
        )
        self.target_embedding = keras.layers.Embedding(
            n_tgt, embedding_dim, mask_zero=True, name="target_embedding"
        )
        self.encoder = make_rnn(
            cell_type, units, return_state=True, name="encoder"
        )
        self.decoder = make_rnn(
            cell_type,
            units,
            return_sequences=True,
            return_state=True,
            name="decoder",
        )
        self.output_layer = keras.layers.Dense(
            n_tgt, name="output_layer", dtype=head_policy(self, self.head_dtype)
        )

    def encode(self, encoder_inputs):
        """Final encoder states, a list (`[h]` or `[h, c]` for LSTM)."""
        x = self.source_embedding(encoder_inputs)  # (B, S, E)
        _, *states = self.encoder(x)
        return states

    def decode(self, decoder_inputs, states, context):
        """Returns `(logits (B, T, V), new_states)`; `context` is `h^enc_T`."""
        y = self.target_embedding(decoder_inputs)  # (B, T, E)
        mask = decoder_inputs != SPECIAL_TOKENS.pad_id  # (B, T)
        c = ops.repeat(context[:, None, :], ops.shape(y)[1], axis=1)  # (B,T,H)
        y = ops.concatenate([y, ops.cast(c, y.dtype)], axis=-1)  # (B,T,E+H)
        seq, *states = self.decoder(y, initial_state=states, mask=mask)
        return self.output_layer(seq), states  # (B, T, V)

    def call(self, inputs, training=None):
        if not isinstance(inputs, dict):
            raise TypeError(
                "inputs must be a dict with 'encoder_inputs' and "
                f"'decoder_inputs', got {type(inputs).__name__}."
            )
        states = self.encode(inputs["encoder_inputs"])
        logits, _ = self.decode(inputs["decoder_inputs"], states, states[0])
        return logits

    def greedy_decode(self, encoder_inputs, max_length=None):
        """Greedy decoding with `keras.ops` (eager and in graphs).

        Args:
            encoder_inputs: int ids `(batch_size, source_length)`.
            max_length: decoding steps (default `max_decode_length`).

        Returns:
            int32 ids `(batch_size, max_length)`; `[PAD]`, `[SOS]` and
            `[MASK]` are never emitted; after the first `[EOS]` every
            position is `[PAD]` (0).
        """
        max_length = max_length or self.max_decode_length
        states = self.encode(encoder_inputs)
        context = states[0]
        batch = ops.shape(encoder_inputs)[0]
        token = ops.full((batch, 1), SPECIAL_TOKENS.sos_id, dtype="int32")
        done = ops.zeros((batch, 1), dtype="bool")
        # Never emit [PAD], [SOS] or [MASK].
        banned = ops.one_hot(
            [
                SPECIAL_TOKENS.pad_id,
                SPECIAL_TOKENS.sos_id,
                SPECIAL_TOKENS.mask_id,
            ],
            self.target_tokenizer.vocabulary_size,
        )
        penalty = -1e9 * ops.sum(banned, axis=0)  # (V,)
        outputs = []
        for _ in range(max_length):
            # One step through the decoder's cell (no time loop): the same
            # math as `decode` on a length-1 sequence, a smaller graph.
            y = self.target_embedding(token[:, 0])  # (B, E)
            y = ops.concatenate([y, ops.cast(context, y.dtype)], axis=-1)
            h, states = self.decoder.cell(y, states)  # (B, H)
            if not isinstance(states, (list, tuple)):
                states = [states]
            states = list(states)
            logits = self.output_layer(h)  # float32 under a mixed policy
            logits = logits + ops.cast(penalty, logits.dtype)
            token = ops.cast(ops.argmax(logits, axis=-1), "int32")[:, None]
            token = ops.where(done, SPECIAL_TOKENS.pad_id, token)  # (B, 1)
            outputs.append(token)
            done = ops.logical_or(done, token == SPECIAL_TOKENS.eos_id)
        return ops.concatenate(outputs, axis=1)  # (B, L)

    def translate(self, texts, max_length=None):
        """Greedy translations of a list of strings."""
        ids = self.source_tokenizer.tokenize(list(texts))
        out = self.greedy_decode(ops.convert_to_tensor(ids), max_length)
        return self.target_tokenizer.detokenize(ops.convert_to_numpy(out))

    # Serving -----------------------------------------------------------
    def serve(self, encoder_inputs):
        return {"token_ids": self.greedy_decode(encoder_inputs)}

    def serve_logits(self, encoder_inputs, decoder_inputs):
        logits = self(
            {"encoder_inputs": encoder_inputs, "decoder_inputs": decoder_inputs}
        )
        return {"logits": logits}

    def serve_text(self, text):
        """String in, string out, with core TensorFlow ops only.

        Splits each string into characters (`tf.strings.unicode_split`),
        maps them to ids with a `tf.lookup.StaticHashTable`, decodes
        greedily and joins the target characters back into strings.
        """
        import tensorflow as tf

        chars = tf.strings.unicode_split(text, "UTF-8")  # ragged (B, None)
        ids = tf.ragged.map_flat_values(self._source_table().lookup, chars)
        ids = tf.pad(ids.to_tensor(SPECIAL_TOKENS.pad_id), [[0, 0], [0, 1]])
        out = self.greedy_decode(ids)  # (B, L)
        # [PAD]/[SOS]/[EOS]/[MASK] -> "", [UNK] -> "[UNK]", others -> char.
        table = ["", SPECIAL_TOKENS.unk, "", "", ""]
        table += list(self.target_vocabulary)
        pieces = tf.gather(tf.constant(table), out)  # (B, L)
        return {
            "translation": tf.strings.reduce_join(pieces, axis=1),
            "token_ids": out,
        }

    def _source_table(self):
        import tensorflow as tf

        if getattr(self, "_lookup_table", None) is None:
            tokens = self.source_tokenizer.vocabulary
            init = tf.lookup.KeyValueTensorInitializer(
                tf.constant(tokens), tf.range(len(tokens), dtype=tf.int32)
            )
            # A model attribute, so that the SavedModel export tracks it.
            self._lookup_table = tf.lookup.StaticHashTable(
                init, default_value=SPECIAL_TOKENS.unk_id
            )
        return self._lookup_table

    def serving_signatures(self):
        ids = ((None, None), "int32")
        if not self.built:  # e.g. only `translate` was called so far
            one = ops.ones((1, 1), dtype="int32")
            self({"encoder_inputs": one, "decoder_inputs": one})
        self._source_table()
        from refnn.export.validation import check_token_ids

        n_src = self.source_tokenizer.vocabulary_size
        n_tgt = self.target_tokenizer.vocabulary_size

        def serve(encoder_inputs):
            return self.serve(
                check_token_ids(encoder_inputs, n_src, "encoder_inputs")
            )

        def serve_logits(encoder_inputs, decoder_inputs):
            return self.serve_logits(
                check_token_ids(encoder_inputs, n_src, "encoder_inputs"),
                check_token_ids(decoder_inputs, n_tgt, "decoder_inputs"),
            )

        return {
            "serving_default": (serve, {"encoder_inputs": ids}),
            "translate": (self.serve_text, {"text": ((None,), "string")}),
            "teacher_forcing": (
                serve_logits,
                {"encoder_inputs": ids, "decoder_inputs": ids},
            ),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "head_dtype": self.head_dtype,
            "source_vocabulary": self.source_vocabulary,
            "target_vocabulary": self.target_vocabulary,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell_type": self.cell_type,
            "max_decode_length": self.max_decode_length,
        }
