"""BERT-style bidirectional Transformer encoder."""

import keras
from keras import ops

from refnn.layers import TokenAndPositionEmbedding, TransformerEncoderLayer
from refnn.models._checks import check_transformer_args
from refnn.models.base import ModelMixin
from refnn.text.special_tokens import SPECIAL_TOKENS


@keras.saving.register_keras_serializable(package="refnn")
class BertEncoder(ModelMixin, keras.Model):
    """BERT-style encoder: bidirectional self-attention over all tokens.

    Token and learned position embeddings are summed, normalized and passed
    through `num_layers` encoder blocks (self-attention and feed-forward,
    each with a residual connection and layer normalization; no causal
    mask, so every token sees the whole sequence). Padding (id
    `pad_token_id`) is masked out. The first token plays BERT's `[CLS]`
    role (refnn's tokenizers put `[SOS]` there); its final vector goes
    through a tanh dense layer to give the pooled sequence summary:

        h = Encoder(LayerNorm(E_tok[x] + E_pos))
        pooled = tanh(W_p h_0 + b_p)

    Args:
        vocabulary_size: int, number of token ids.
        max_length: int, the context window.
        num_layers: int, number of encoder blocks.
        hidden_dim: int, model width.
        num_heads: int, attention heads; must divide `hidden_dim`.
        intermediate_dim: int, feed-forward inner size (default
            `4 * hidden_dim`).
        dropout: float in [0, 1).
        layer_norm_epsilon: float.
        pad_token_id: int, the padding id.
        **kwargs: forwarded to `keras.Model`.

    Call arguments:
        token_ids: int tensor `(batch_size, sequence_length)`.
        training: bool, whether dropout is active.

    Returns:
        A dict: `sequence_output` `(batch_size, sequence_length,
        hidden_dim)` and `pooled_output` `(batch_size, hidden_dim)`.

    Example:

    >>> import numpy as np
    >>> encoder = BertEncoder(vocabulary_size=50, max_length=16,
    ...                       num_layers=1, hidden_dim=16, num_heads=2)
    >>> encoder(np.ones((2, 8), "int32"))["pooled_output"].shape
    TensorShape([2, 16])

    References:
        seeds/002: "Transformer Architecture" (Architecture Variants: BERT,
        bidirectional encoder, masked language modeling; Core Components:
        encoder), "Overview of Transformer Model Functionality".
    """

    def __init__(
        self,
        vocabulary_size,
        max_length,
        num_layers=2,
        hidden_dim=64,
        num_heads=4,
        intermediate_dim=None,
        dropout=0.1,
        layer_norm_epsilon=1e-6,
        pad_token_id=SPECIAL_TOKENS.pad_id,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if intermediate_dim is None:
            intermediate_dim = 4 * hidden_dim
        check_transformer_args(
            hidden_dim,
            num_heads,
            dropout,
            vocabulary_size=vocabulary_size,
            max_length=max_length,
            num_layers=num_layers,
            intermediate_dim=intermediate_dim,
        )
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.pad_token_id = pad_token_id

        common = dict(dtype=self.dtype_policy)
        self.embedding = TokenAndPositionEmbedding(
            vocabulary_size, max_length, hidden_dim, name="embedding", **common
        )
        self.embedding_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="embedding_layer_norm", **common
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, name="embedding_dropout", **common
        )
        self.encoder_layers = [
            TransformerEncoderLayer(
                intermediate_dim=intermediate_dim,
                num_heads=num_heads,
                dropout=dropout,
                activation="gelu",
                layer_norm_epsilon=layer_norm_epsilon,
                name=f"encoder_layer_{i}",
                **common,
            )
            for i in range(num_layers)
        ]
        self.pooler = keras.layers.Dense(
            hidden_dim, activation="tanh", name="pooler", **common
        )

    def build(self, input_shape=None):
        hidden = (None, None, self.hidden_dim)
        self.embedding.build((None, None))
        self.embedding_layer_norm.build(hidden)
        for layer in self.encoder_layers:
            layer.build(hidden)
        self.pooler.build((None, self.hidden_dim))
        self.built = True

    def call(self, token_ids, training=None):
        mask = ops.not_equal(token_ids, self.pad_token_id)  # (B, T)
        x = self.embedding_layer_norm(self.embedding(token_ids))  # (B, T, H)
        x = self.embedding_dropout(x, training=training)
        for layer in self.encoder_layers:
            x = layer(x, padding_mask=mask, training=training)
        return {"sequence_output": x, "pooled_output": self.pooler(x[:, 0])}

    def compute_output_shape(self, input_shape):
        batch, length = tuple(input_shape)
        return {
            "sequence_output": (batch, length, self.hidden_dim),
            "pooled_output": (batch, self.hidden_dim),
        }

    def serving_signatures(self):
        """`serving_default`: `token_ids` -> `sequence_output`,
        `pooled_output` (variable batch and length)."""
        from refnn.export.validation import check_token_ids

        n = self.vocabulary_size

        def serve(token_ids):
            ids = check_token_ids(token_ids, n, "token_ids")
            return self(ids, training=False)

        return {
            "serving_default": (
                serve,
                {"token_ids": ((None, None), "int32")},
            )
        }

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "max_length": self.max_length,
            "num_layers": self.num_layers,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "pad_token_id": self.pad_token_id,
        }
