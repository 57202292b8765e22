"""Sum of a token embedding and a learned position embedding."""

import keras
from keras import ops

from refnn.layers.position_embedding import (
    PositionEmbedding,
    check_context_window,
    size,
)


def _clone(initializer):
    # A fresh instance per weight, so a seeded initializer does not give
    # the token and position tables the same values.
    return initializer.__class__.from_config(initializer.get_config())


def _flag(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}.")
    return value


@keras.saving.register_keras_serializable(package="refnn")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding plus learned position embedding.

        x_t = E_tok[token_t] + E_pos[t]

    The same token id always maps to the same vector (`E_tok` row); the
    position vector tells the otherwise order-blind attention where the
    token is. With `mask_zero=True` id 0 is padding and the output carries a
    Keras mask `(batch_size, sequence_length)` that downstream blocks use as
    their padding mask. `reverse(hidden)` gives vocabulary logits,
    `hidden · E_tokᵀ` with tied weights (as GPT-2 does), else `hidden · W_out`
    with a separate `(embedding_dim, vocabulary_size)` matrix.

    A drop-in for `keras_hub.layers.TokenAndPositionEmbedding`: the same
    arguments in the same order, the same sublayers (`token_embedding`, a
    `keras.layers.ReversibleEmbedding`, so `token_embedding(x, reverse=True)`
    works as in keras-hub; `position_embedding`) and weights in the same
    order. Additions: `compute_mask` returns the padding mask (keras-hub's
    returns `None`) and an input longer than the window raises a
    `ValueError` naming both lengths.

    Args:
        vocabulary_size: int, number of token ids.
        sequence_length: int, the context window.
        embedding_dim: int, the output size.
        tie_weights: bool, `reverse` uses `E_tokᵀ` (default) or, if `False`,
            a separate trainable `(embedding_dim, vocabulary_size)` matrix.
        embeddings_initializer: initializer of the embedding matrices.
        mask_zero: bool, treat id 0 as padding and emit a mask.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: int tensor `(batch_size, sequence_length)` (or any rank
            ending in `sequence_length`, e.g. one unbatched sequence).
        start_index: int or int tensor, position of the first token.
        positions: optional custom positions (`start_index` is then
            ignored).

    Returns:
        `(batch_size, sequence_length, embedding_dim)` float tensor.

    Example:

    >>> import numpy as np
    >>> layer = TokenAndPositionEmbedding(100, 16, 8, mask_zero=True)
    >>> tuple(layer(np.array([[5, 3, 0]])).shape)
    (1, 3, 8)

    References:
        seed 002, "Overview of Transformer Model Functionality" →
        "Tokenization and Embeddings", "2. Transformer Architecture" →
        "Positional Encoding", and "Concept of Context Window".
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        tie_weights=True,
        embeddings_initializer="uniform",
        mask_zero=False,
        **kwargs,
    ):
        vocabulary_size = size("vocabulary_size", vocabulary_size)
        sequence_length = size("sequence_length", sequence_length)
        embedding_dim = size("embedding_dim", embedding_dim)
        tie_weights = _flag("tie_weights", tie_weights)
        mask_zero = _flag("mask_zero", mask_zero)
        super().__init__(**kwargs)
        self.tie_weights = tie_weights
        self.mask_zero = mask_zero
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer
        )
        self.token_embedding = keras.layers.ReversibleEmbedding(
            vocabulary_size,
            embedding_dim,
            tie_weights=tie_weights,
            embeddings_initializer=_clone(self.embeddings_initializer),
            mask_zero=mask_zero,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            sequence_length=sequence_length,
            initializer=_clone(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.supports_masking = mask_zero

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self.token_embedding.build(input_shape)
        self.position_embedding.build(input_shape + (self.embedding_dim,))

    def call(self, inputs, start_index=0, positions=None):
        if positions is None:
            check_context_window(
                inputs.shape[-1], start_index, self.sequence_length, self.name
            )
        tokens = self.token_embedding(inputs)  # (B, T, H)
        return tokens + self.position_embedding(
            tokens, start_index=start_index, positions=positions
        )

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def reverse(self, hidden_states):
        """Logits over the vocabulary: `(..., embedding_dim)` →
        `(..., vocabulary_size)` (tied: `hidden · E_tokᵀ`)."""
        return self.token_embedding(hidden_states, reverse=True)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.embedding_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "sequence_length": self.sequence_length,
            "embedding_dim": self.embedding_dim,
            "tie_weights": self.tie_weights,
            "embeddings_initializer": keras.initializers.serialize(
                self.embeddings_initializer
            ),
            "mask_zero": self.mask_zero,
        }
