"""Attention masks: padding, causal (with a KV-cache offset), and merging.

Convention: a mask is a boolean tensor where True means "this position may
be attended to / is a real token". Attention masks have shape
`(batch_size, query_length, key_length)` (or broadcast to it, e.g.
`(batch_size, 1, key_length)` for a padding mask).

References:
    seed 002, "2. Transformer Architecture" → "Decoder" (masked
    self-attention) and "Concept of Context Window".
"""

from keras import ops


def get_keras_mask(x):
    """Return the Keras mask attached to `x` (e.g. by `mask_zero=True`).

    Keras layers that support masking attach their output mask to the
    output tensor as `x._keras_mask`; `None` when there is none.
    """
    return getattr(x, "_keras_mask", None)


def padding_mask(token_ids, pad_id=0):
    """Boolean mask that is False at padding tokens.

    Args:
        token_ids: integer tensor `(batch_size, sequence_length)`.
        pad_id: int, the id used for padding.

    Returns:
        Boolean tensor `(batch_size, sequence_length)`, True at real tokens.

    Example:

    >>> import numpy as np
    >>> from keras import ops
    >>> mask = padding_mask(np.array([[5, 7, 0, 0]]))
    >>> ops.convert_to_numpy(mask).tolist()
    [[True, True, False, False]]
    """
    if not isinstance(pad_id, int) or isinstance(pad_id, bool):
        raise TypeError(f"pad_id must be an int, got {pad_id!r}.")
    token_ids = ops.convert_to_tensor(token_ids)
    return ops.not_equal(token_ids, ops.cast(pad_id, token_ids.dtype))


def compute_causal_mask(batch_size, input_length, output_length, cache_index=0):
    """Causal mask for a decoder: query `i` sees keys `j <= i + cache_index`.

    Args:
        batch_size: int or scalar tensor.
        input_length: key/value length (the cache length when decoding with
            a KV cache).
        output_length: query length.
        cache_index: int or scalar tensor, the position of the first query
            (during cached decoding the index of the token being generated).

    Returns:
        Boolean tensor `(batch_size, output_length, input_length)`.

    Example:

    >>> from keras import ops
    >>> ops.convert_to_numpy(compute_causal_mask(1, 3, 3)[0]).tolist()
    [[True, False, False], [True, True, False], [True, True, True]]
    """
    i = ops.arange(output_length, dtype="int32")
    i = i + ops.cast(cache_index, "int32")
    j = ops.arange(input_length, dtype="int32")
    mask = ops.expand_dims(i[:, None] >= j[None, :], axis=0)  # (1, T, S)
    return ops.broadcast_to(mask, (batch_size, output_length, input_length))


def causal_mask(batch_size, length):
    """Square causal mask `(batch_size, length, length)`, lower-triangular."""
    return compute_causal_mask(batch_size, length, length)


def merge_padding_and_attention_mask(inputs, padding_mask, attention_mask):
    """Merge a padding mask with a custom attention mask (as keras_hub does).

    The padding mask comes from `padding_mask` if given, else from the Keras
    mask attached to `inputs` (e.g. from `Embedding(mask_zero=True)`).

    Args:
        inputs: the sequence `(batch_size, sequence_length, ...)`.
        padding_mask: optional `(batch_size, sequence_length)` mask.
        attention_mask: optional `(batch_size, T, sequence_length)` mask.

    Returns:
        None, a boolean `(batch_size, 1, sequence_length)` mask (padding only)
        or a boolean `(batch_size, T, sequence_length)` mask (both merged with
        logical AND).
    """
    mask = padding_mask if padding_mask is not None else get_keras_mask(inputs)
    if mask is not None:
        if len(mask.shape) != 2:
            raise ValueError(
                "padding_mask must have shape (batch_size, sequence_length), "
                f"got shape {tuple(mask.shape)}."
            )
        mask = ops.expand_dims(ops.cast(mask, "bool"), axis=1)  # (B, 1, S)
    if attention_mask is not None:
        if len(attention_mask.shape) != 3:
            raise ValueError(
                "attention_mask must have shape (batch_size, target_length, "
                f"source_length), got shape {tuple(attention_mask.shape)}."
            )
        attention_mask = ops.cast(attention_mask, "bool")
        if mask is None:
            return attention_mask
        return ops.logical_and(mask, attention_mask)
    return mask
