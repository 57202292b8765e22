"""BERT masked-language-model pre-training head."""

import keras
from keras import ops

from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin
from refnn.models.bert_encoder import BertEncoder


@keras.saving.register_keras_serializable(package="refnn")
class BertMaskedLM(ModelMixin, keras.Model):
    """Masked language model on top of a `BertEncoder` (pre-training).

    Some input tokens are hidden (see `refnn.models.bert_masking.mask_tokens`:
    15% of the tokens, of which 80% become `[MASK]`, 10% a random token and
    10% stay unchanged); the model predicts the original token at each
    selected position from both its left and right context:

        h = BertEncoder(x_masked)
        p(x_i | x_masked) = softmax(W_v LayerNorm(gelu(W_t h_i + b_t)) + b_v)

    Train with `SparseCategoricalCrossentropy(from_logits=True,
    reduction="mean_with_sample_weight")` on `mask_ids` with
    `sample_weight=mask_weights` (0 on unused prediction slots, so the loss
    is the mean over the selected tokens only). The encoder is shared:
    after pre-training, pass `masked_lm.encoder` to `BertClassifier` to
    fine-tune it.

    Args:
        encoder: a `BertEncoder`.
        head_dtype: dtype of the output layer; None (default) is float32
            under a mixed policy and the model's dtype otherwise.
        **kwargs: forwarded to `keras.Model`.

    Call arguments:
        inputs: dict with `token_ids` `(batch_size, sequence_length)` and
            `mask_positions` `(batch_size, num_predictions)` int tensors.
        training: bool.

    Returns:
        Logits `(batch_size, num_predictions, vocabulary_size)`.

    Example:

    >>> import numpy as np
    >>> encoder = BertEncoder(vocabulary_size=50, max_length=16,
    ...                       num_layers=1, hidden_dim=16, num_heads=2)
    >>> mlm = BertMaskedLM(encoder)
    >>> mlm({"token_ids": np.ones((2, 8), "int32"),
    ...      "mask_positions": np.zeros((2, 3), "int32")}).shape
    TensorShape([2, 3, 50])

    References:
        seeds/002: "Transformer Architecture" (Architecture Variants: BERT,
        bidirectional encoder, masked language modeling).
    """

    def __init__(self, encoder, head_dtype=None, **kwargs):
        super().__init__(**kwargs)
        self.head_dtype = check_head_dtype(head_dtype)
        if not isinstance(encoder, BertEncoder):
            raise TypeError(
                f"encoder must be a BertEncoder, got {type(encoder).__name__}."
            )
        self.encoder = encoder
        common = dict(dtype=self.dtype_policy)
        self.transform = keras.layers.Dense(
            encoder.hidden_dim, activation="gelu", name="transform", **common
        )
        self.transform_layer_norm = keras.layers.LayerNormalization(
            epsilon=encoder.layer_norm_epsilon,
            name="transform_layer_norm",
            **common,
        )
        self.vocabulary_dense = keras.layers.Dense(
            encoder.vocabulary_size,
            name="vocabulary_dense",
            dtype=head_policy(self, self.head_dtype),
        )

    def build(self, input_shape=None):
        hidden = (None, None, self.encoder.hidden_dim)
        if not self.encoder.built:
            self.encoder.build()
        self.transform.build(hidden)
        self.transform_layer_norm.build(hidden)
        self.vocabulary_dense.build(hidden)
        self.built = True

    def call(self, inputs, training=None):
        if not isinstance(inputs, dict):
            raise TypeError(
                "inputs must be a dict with 'token_ids' and 'mask_positions', "
                f"got {type(inputs).__name__}."
            )
        h = self.encoder(inputs["token_ids"], training=training)
        h = h["sequence_output"]  # (B, T, H)
        positions = ops.cast(inputs["mask_positions"], "int32")  # (B, M)
        h = ops.take_along_axis(h, positions[:, :, None], axis=1)  # (B, M, H)
        h = self.transform_layer_norm(self.transform(h))
        return self.vocabulary_dense(h)  # (B, M, V)

    def compute_output_shape(self, input_shape):
        positions = tuple(input_shape["mask_positions"])
        return positions + (self.encoder.vocabulary_size,)

    def serving_signatures(self):
        """`serving_default`: `token_ids`, `mask_positions` -> `logits`
        and `predicted_ids` at the masked positions."""
        from refnn.export.validation import check_positions, check_token_ids

        ids = ((None, None), "int32")
        n = self.encoder.vocabulary_size

        def serve(token_ids, mask_positions):
            return self.serve(
                check_token_ids(token_ids, n, "token_ids"),
                check_positions(mask_positions, token_ids, "mask_positions"),
            )

        return {
            "serving_default": (
                serve,
                {"token_ids": ids, "mask_positions": ids},
            )
        }

    def serve(self, token_ids, mask_positions):
        logits = self(
            {"token_ids": token_ids, "mask_positions": mask_positions},
            training=False,
        )
        predicted = ops.cast(ops.argmax(logits, axis=-1), "int32")
        return {"logits": logits, "predicted_ids": predicted}

    def get_config(self):
        return {
            **super().get_config(),
            "head_dtype": self.head_dtype,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(
            config["encoder"]
        )
        return cls(**config)
