"""Bag-of-words vectors over a vocabulary."""

import keras
from keras import ops

from refnn.text.special_tokens import SPECIAL_TOKENS

_MODES = ("binary", "count")


@keras.saving.register_keras_serializable(package="refnn")
class BagOfWords(keras.layers.Layer):
    """Turns token ids into a binary or count vector over the vocabulary.

    The seed's steps: tokenize, lowercase, drop stop words, map tokens to
    ids (`WordTokenizer`), then for every id set position `id` of a vector
    with one element per vocabulary entry:

        binary:  v[j] = 1 if token j occurs in the text else 0
        count:   v[j] = number of times token j occurs

    `[PAD]` (id 0) is never counted, so padded batches give the same
    vectors as unpadded texts. Equal to
    `keras.layers.TextVectorization(output_mode="multi_hot" / "count")`
    with the same vocabulary (its column 0 is `[UNK]`, ours is at id 1).

    Args:
        vocabulary_size: number of ids (special tokens included), e.g.
            `WordTokenizer.vocabulary_size`.
        mode: `"binary"` or `"count"`.

    Call arguments:
        token_ids: integer tensor `(batch_size, sequence_length)`.

    Returns:
        `float32` tensor `(batch_size, vocabulary_size)`.

    Example:

    >>> import numpy as np
    >>> bow = BagOfWords(8, mode="count")
    >>> bow(np.array([[5, 6, 5, 0]])).numpy().tolist()
    [[0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0, 0.0]]

    References:
        seed 002, "The Bag of Words Model", "How It Works" and "Steps
        Involved".
    """

    def __init__(self, vocabulary_size, mode="binary", **kwargs):
        super().__init__(**kwargs)
        if (
            isinstance(vocabulary_size, bool)
            or not isinstance(vocabulary_size, int)
            or vocabulary_size <= 0
        ):
            raise ValueError(
                "vocabulary_size must be a positive integer, got "
                f"{vocabulary_size}."
            )
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}.")
        self.vocabulary_size = vocabulary_size
        self.mode = mode

    def call(self, token_ids):
        if "int" not in str(token_ids.dtype):
            raise TypeError(
                f"token_ids must be integers, got dtype {token_ids.dtype}."
            )
        one_hot = ops.one_hot(token_ids, self.vocabulary_size)  # (B, T, V)
        counts = ops.sum(one_hot, axis=1)  # (B, V)
        # [PAD] never counts.
        keep = ops.arange(self.vocabulary_size) != SPECIAL_TOKENS.pad_id
        counts = counts * ops.cast(keep, counts.dtype)
        if self.mode == "binary":
            counts = ops.minimum(counts, 1.0)
        return ops.cast(counts, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.vocabulary_size)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "mode": self.mode,
        }
