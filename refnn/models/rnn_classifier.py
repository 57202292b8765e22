"""Many-to-one recurrent text classifier."""

import keras
from keras import ops

from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin
from refnn.text.special_tokens import SPECIAL_TOKENS
from refnn.text.word_tokenizer import WordTokenizer

CELL_TYPES = ("lstm", "gru", "simple_rnn")


def make_rnn(cell_type, units, **kwargs):
    """Returns refnn's `LSTM`, `GRU` or `SimpleRNN` layer."""
    from refnn import layers

    classes = {
        "lstm": layers.LSTM,
        "gru": layers.GRU,
        "simple_rnn": layers.SimpleRNN,
    }
    if cell_type not in classes:
        raise ValueError(
            f"cell_type must be one of {CELL_TYPES}, got {cell_type!r}."
        )
    return classes[cell_type](units, **kwargs)


def check_positive_int(name, value):
    """Returns `value` after checking it is a positive int (not a bool).

    Args:
        name: the argument's name, quoted in the error.
        value: what the caller passed.

    Raises:
        ValueError: ``"{name} must be a positive integer, got {value}."``

    Example:

    >>> check_positive_int("units", 8)
    8
    >>> check_positive_int("units", 0)
    Traceback (most recent call last):
    ...
    ValueError: units must be a positive integer, got 0.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}.")
    return value


@keras.saving.register_keras_serializable(package="refnn")
class RNNClassifier(ModelMixin, keras.Model):
    """Many-to-one RNN: embedding -> LSTM/GRU/SimpleRNN -> softmax.

    The recurrent layer reads the tokens one at a time and only its final
    hidden state `h_T` (of the last non-padding token) is classified:

        e_t = E[x_t];  h_t = RNN(e_t, h_{t-1});  ŷ = softmax(W h_T + b)

    Padding id 0 is masked (`Embedding(mask_zero=True)`), so padded and
    unpadded sequences give the same prediction.

    Args:
        vocabulary_size: number of token ids (special tokens included).
        num_classes: number of classes (>= 2).
        embedding_dim: size of the token embeddings.
        units: hidden size of the recurrent layer.
        cell_type: `"lstm"`, `"gru"` or `"simple_rnn"` (refnn's layers).
        dropout: dropout rate on the final hidden state.
        vocabulary: optional word list (as in `WordTokenizer`, without the
            special tokens). When given, the model also exports a
            string-in `serve_text` endpoint and has `predict_text`.
        sequence_length: optional maximum number of tokens the string
            endpoint keeps (longer texts are truncated).
        head_dtype: dtype of the output layer; None (default) is float32
            under a mixed policy and the model's dtype otherwise.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        token_ids: int tensor `(batch_size, sequence_length)`, 0 = padding.
        training: whether dropout is active.

    Returns:
        Class probabilities `(batch_size, num_classes)`.

    Serving endpoints (`serving_signatures`): `serving_default`
    (`token_ids` `(None, None)` int32 -> `probabilities`, `label`) and, with
    a vocabulary, `serve_text` (`text` `(None,)` string -> `probabilities`,
    `label`), which lowercases, strips punctuation, splits and looks words
    up with `tf.strings` and a `tf.lookup.StaticHashTable` only, so stock
    TF Serving can run it.

    Example:

    >>> import numpy as np
    >>> model = RNNClassifier(vocabulary_size=20, num_classes=2, units=8)
    >>> probabilities = model(np.array([[5, 6, 7, 0]]))
    >>> probabilities.shape
    TensorShape([1, 2])
    >>> round(float(np.sum(probabilities)), 5)  # a softmax over the classes
    1.0

    References:
        seed 002, "How RNNs Work", "Standard RNN" (only the final output
        classifies the sequence, e.g. spam or not) and "1. Recurrent Neural
        Networks (RNN)".
    """

    def __init__(
        self,
        vocabulary_size,
        num_classes,
        embedding_dim=32,
        units=32,
        cell_type="lstm",
        dropout=0.0,
        vocabulary=None,
        sequence_length=None,
        head_dtype=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.head_dtype = check_head_dtype(head_dtype)
        self.vocabulary_size = check_positive_int(
            "vocabulary_size", vocabulary_size
        )
        self.num_classes = check_positive_int("num_classes", num_classes)
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.units = check_positive_int("units", units)
        self.cell_type = cell_type
        self.dropout = dropout
        self.vocabulary = None if vocabulary is None else list(vocabulary)
        if sequence_length is not None:
            check_positive_int("sequence_length", sequence_length)
        self.sequence_length = sequence_length
        self.tokenizer = None
        if self.vocabulary is not None:
            self.tokenizer = WordTokenizer(self.vocabulary)
            if self.tokenizer.vocabulary_size != vocabulary_size:
                raise ValueError(
                    "vocabulary_size must equal len(vocabulary) + "
                    f"{len(SPECIAL_TOKENS.tokens)} special tokens = "
                    f"{self.tokenizer.vocabulary_size}, got {vocabulary_size}."
                )
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
        )
        self.rnn = make_rnn(cell_type, units, name="rnn")
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        self.classifier = keras.layers.Dense(
            num_classes,
            activation="softmax",
            name="classifier",
            dtype=head_policy(self, self.head_dtype),
        )

    def call(self, token_ids, training=None):
        x = self.embedding(token_ids)  # (B, T, E), mask (B, T)
        h = self.rnn(x, training=training)  # (B, H): h of last real token
        h = self.dropout_layer(h, training=training)
        return self.classifier(h)  # (B, C)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    # Text in -----------------------------------------------------------
    def predict_text(self, texts):
        """Class probabilities for a list of strings (numpy)."""
        if self.tokenizer is None:
            raise ValueError(
                "predict_text needs the model to be built with vocabulary=."
            )
        ids = self.tokenizer.tokenize(
            list(texts), sequence_length=self._text_length(texts)
        )
        return keras.ops.convert_to_numpy(self(ids, training=False))

    def _text_length(self, texts):
        n = max([len(self.tokenizer.split(t)) for t in texts] + [1])
        return min(n, self.sequence_length) if self.sequence_length else n

    # Serving -----------------------------------------------------------
    def serve(self, token_ids):
        probs = self(token_ids, training=False)
        return {"probabilities": probs, "label": ops.argmax(probs, axis=-1)}

    def serve_text(self, text):
        """String-in endpoint: core TF string ops + a lookup table only."""
        import tensorflow as tf

        ids = self.tokenizer.tf_tokenize(
            text, self.sequence_length, table=self._table()
        )  # (B, T)
        # One trailing [PAD] column: masked, and keeps T >= 1 for empty text.
        ids = tf.pad(ids, [[0, 0], [0, 1]])
        return self.serve(ids)

    def _table(self):
        if getattr(self, "_lookup_table", None) is None:
            # A model attribute, so that the SavedModel export tracks it.
            self._lookup_table = self.tokenizer.lookup_table()
        return self._lookup_table

    def serving_signatures(self):
        from refnn.export.validation import check_token_ids

        n = self.vocabulary_size

        def serve(token_ids):
            return self.serve(check_token_ids(token_ids, n, "token_ids"))

        sigs = {
            "serving_default": (
                serve,
                {"token_ids": ((None, None), "int32")},
            )
        }
        if self.tokenizer is not None:
            self._table()
            sigs["serve_text"] = (
                self.serve_text,
                {"text": ((None,), "string")},
            )
        return sigs

    def get_config(self):
        return {
            **super().get_config(),
            "head_dtype": self.head_dtype,
            "vocabulary_size": self.vocabulary_size,
            "num_classes": self.num_classes,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell_type": self.cell_type,
            "dropout": self.dropout,
            "vocabulary": self.vocabulary,
            "sequence_length": self.sequence_length,
        }
