"""Learned position embedding with a fixed context window."""

import numbers

import keras
from keras import ops

from refnn._validation import positive_int


def size(name, value):
    """`int(value)` for a positive int (NumPy ints included), else
    `ValueError` naming `name`."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
    return positive_int(name, value)


def check_rank(inputs, name):
    """Raise unless `inputs` ends in `(sequence_length, hidden_dim)`."""
    if len(inputs.shape) < 2:
        raise ValueError(
            f"{name}: inputs must have shape (..., sequence_length, "
            f"hidden_dim), rank 2 or more, got shape {tuple(inputs.shape)}."
        )


def check_context_window(length, start_index, sequence_length, name):
    """Raise if `start_index + length` exceeds the context window."""
    if isinstance(length, int) and isinstance(start_index, int):
        if start_index + length > sequence_length:
            raise ValueError(
                f"{name}: a sequence of length {length} starting at position "
                f"{start_index} does not fit the context window "
                f"sequence_length={sequence_length}."
            )


@keras.saving.register_keras_serializable(package="refnn")
class PositionEmbedding(keras.layers.Layer):
    """Learned position embedding: one trainable vector per position.

        P = E_pos[start_index : start_index + T]     E_pos: (L, hidden_dim)

    `sequence_length` `L` is the context window: the largest number of
    positions the model can handle at once; a longer input raises
    `ValueError` naming both lengths (when the length is known statically).

    A drop-in for `keras_hub.layers.PositionEmbedding` (same arguments, same
    call, same weights). Additions: the input's Keras mask is passed
    through, and an input longer than the window or float `positions`
    raise a `ValueError` naming them.

    Args:
        sequence_length: int, the context window (number of positions).
        initializer: initializer of the `(sequence_length, hidden_dim)`
            embedding matrix.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: `(batch_size, sequence_length, hidden_dim)` (or any rank
            >= 2 ending in `(sequence_length, hidden_dim)`); only its shape
            is used.
        start_index: int or int tensor, first position (cached decoding).
        positions: optional int `(T,)` or `(batch_size, T)` positions to
            gather; when given, `start_index` is ignored.

    Returns:
        The position embeddings broadcast to the shape of `inputs`.

    Example:

    >>> import numpy as np
    >>> layer = PositionEmbedding(sequence_length=10)
    >>> tuple(layer(np.zeros((2, 6, 4), "float32")).shape)
    (2, 6, 4)

    References:
        seed 002, "2. Transformer Architecture" → "Positional Encoding"
        (learnable positions) and "Concept of Context Window".
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        sequence_length = size("sequence_length", sequence_length)
        super().__init__(**kwargs)
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
        )

    def call(self, inputs, start_index=0, positions=None):
        check_rank(inputs, self.name)
        shape = ops.shape(inputs)
        embeddings = ops.convert_to_tensor(self.position_embeddings)
        if positions is not None:
            positions = ops.convert_to_tensor(positions)
            if "int" not in keras.backend.standardize_dtype(positions.dtype):
                raise ValueError(
                    f"{self.name}: positions must be integers, got dtype "
                    f"{positions.dtype}."
                )
            # (T, H) or (B, T, H)
            result = ops.take(embeddings, positions, axis=0)
        else:
            check_context_window(
                inputs.shape[-2], start_index, self.sequence_length, self.name
            )
            result = ops.slice(
                embeddings, (start_index, 0), (shape[-2], shape[-1])
            )
        return ops.broadcast_to(result, shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "sequence_length": self.sequence_length,
            "initializer": keras.initializers.serialize(self.initializer),
        }
