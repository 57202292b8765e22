"""Sequence classifier on the pooled [CLS] vector of a `BertEncoder`."""

import keras
from keras import ops

from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin
from refnn.models.bert_encoder import BertEncoder


@keras.saving.register_keras_serializable(package="refnn")
class BertClassifier(ModelMixin, keras.Model):
    """Classifies sequences from a (pre-trained) `BertEncoder`'s [CLS] token.

        p(y | x) = softmax(W dropout(pooled(x)) + b)

    The encoder is the model's first layer, so transfer learning can freeze
    it with `refnn.training.freeze(model, up_to=model.encoder.name)` or
    `refnn.training.FreezeSchedule(up_to=..., epochs=k)` (train the new head
    first, then fine-tune everything).

    Args:
        encoder: a `BertEncoder` (e.g. `BertMaskedLM.encoder` after
            pre-training).
        num_classes: int >= 2.
        dropout: float in [0, 1), dropout before the output layer.
        head_dtype: dtype of the output layer; None (default) is float32
            under a mixed policy and the model's dtype otherwise.
        **kwargs: forwarded to `keras.Model`.

    Call arguments:
        token_ids: int tensor `(batch_size, sequence_length)`, first token
            `[SOS]` (the [CLS] role), 0 = padding.
        training: bool.

    Returns:
        Logits `(batch_size, num_classes)`.

    Example:

    >>> import numpy as np
    >>> encoder = BertEncoder(vocabulary_size=50, max_length=16,
    ...                       num_layers=1, hidden_dim=16, num_heads=2)
    >>> BertClassifier(encoder, num_classes=3)(np.ones((2, 8), "int32")).shape
    TensorShape([2, 3])

    References:
        seeds/002: "Transformer Architecture" (Architecture Variants: BERT;
        Applications), "Transfer Learning" (fine-tuning a pre-trained
        network).
    """

    def __init__(
        self, encoder, num_classes, dropout=0.1, head_dtype=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.head_dtype = check_head_dtype(head_dtype)
        if not isinstance(encoder, BertEncoder):
            raise TypeError(
                f"encoder must be a BertEncoder, got {type(encoder).__name__}."
            )
        if (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, int)
            or num_classes < 2
        ):
            raise ValueError(
                f"num_classes must be an integer >= 2, got {num_classes}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        self.encoder = encoder
        self.num_classes = num_classes
        self.dropout = dropout
        common = dict(dtype=self.dtype_policy)
        self.head_dropout = keras.layers.Dropout(
            dropout, name="head_dropout", **common
        )
        self.head = keras.layers.Dense(
            num_classes,
            name="head",
            dtype=head_policy(self, self.head_dtype),
        )

    def build(self, input_shape=None):
        if not self.encoder.built:
            self.encoder.build()
        self.head.build((None, self.encoder.hidden_dim))
        self.built = True

    def call(self, token_ids, training=None):
        pooled = self.encoder(token_ids, training=training)["pooled_output"]
        return self.head(self.head_dropout(pooled, training=training))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def serving_signatures(self):
        """`serving_default`: `token_ids` -> `probabilities`, `label`."""
        from refnn.export.validation import check_token_ids

        n = self.encoder.vocabulary_size

        def serve(token_ids):
            return self.serve(check_token_ids(token_ids, n, "token_ids"))

        return {
            "serving_default": (
                serve,
                {"token_ids": ((None, None), "int32")},
            )
        }

    def serve(self, token_ids):
        probabilities = ops.softmax(self(token_ids, training=False), axis=-1)
        label = ops.cast(ops.argmax(probabilities, axis=-1), "int32")
        return {"probabilities": probabilities, "label": label}

    def get_config(self):
        return {
            **super().get_config(),
            "head_dtype": self.head_dtype,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_classes": self.num_classes,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(
            config["encoder"]
        )
        return cls(**config)
