"""Scaled dot-product attention: softmax(Q Kᵀ / √d_k) V."""

import math

import keras
from keras import ops

from refnn._validation import rate

# Added to the scores of masked positions before the softmax (keras uses the
# same values, so masked softmax results are bit-compatible with it).
_LARGE_NEGATIVE = {"float16": -3e4}


def _large_negative(dtype):
    return _LARGE_NEGATIVE.get(keras.backend.standardize_dtype(dtype), -1e9)


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax over `axis` that ignores the positions where `mask` is False.

    Masked scores are replaced by a large negative number before the softmax
    and the resulting weights are then set to exactly zero, so a row whose
    positions are all masked gives all-zero weights (never NaN, never a
    uniform distribution over padding).

    Args:
        scores: float tensor, e.g. `(batch_size, num_heads, T, S)`.
        mask: optional boolean (or 0/1) tensor broadcastable to `scores`;
            True / 1 means "may attend".
        axis: the axis to normalize over.

    Returns:
        A tensor shaped like `scores` whose slices along `axis` sum to 1
        (or to 0 where everything is masked).
    """
    if mask is None:
        return ops.softmax(scores, axis=axis)
    if keras.backend.standardize_dtype(mask.dtype) != "bool":
        mask = ops.greater(mask, ops.cast(0.5, mask.dtype))
    scores = ops.where(mask, scores, _large_negative(scores.dtype))
    weights = ops.softmax(scores, axis=axis)
    return ops.where(mask, weights, ops.zeros_like(weights))


def scaled_dot_product_attention(
    query,
    key,
    value,
    mask=None,
    dropout=0.0,
    training=False,
    seed=None,
    scale=None,
):
    """Scaled dot-product attention, `softmax(Q Kᵀ / √d_k) V`.

    Every query vector is compared with every key vector (dot product), the
    scores are divided by `√d_k` so their variance does not grow with the
    head size, turned into weights by a softmax over the keys, and the
    output is the weighted average of the value vectors:

        weights = softmax(Q Kᵀ / √d_k + M)      M = -1e9 where mask is False
        output  = weights V

    Masked positions get a large negative score, and their weight is then set
    to exactly 0; a query row with every key masked therefore gets all-zero
    weights and an all-zero output (defined behaviour, no NaN).

    Args:
        query: `(..., query_length, key_dim)` tensor.
        key: `(..., key_length, key_dim)` tensor.
        value: `(..., key_length, value_dim)` tensor.
        mask: optional boolean tensor broadcastable to
            `(..., query_length, key_length)`; True means "may attend".
        dropout: float in [0, 1), dropout rate applied to the weights when
            `training` is true.
        training: bool, whether dropout is active.
        seed: int or `keras.random.SeedGenerator` for the dropout.
        scale: optional float replacing `1 / √key_dim`.

    Returns:
        `(output, weights)`: output `(..., query_length, value_dim)` and the
        attention weights `(..., query_length, key_length)` (before dropout).

    Example:

    >>> import numpy as np
    >>> q = np.random.rand(2, 4, 8).astype("float32")
    >>> out, w = scaled_dot_product_attention(q, q, q)
    >>> tuple(out.shape), tuple(w.shape)
    ((2, 4, 8), (2, 4, 4))

    References:
        seed 002, "2. Transformer Architecture" → "Key Mechanisms" →
        "Self-Attention" (Query, Key, Value matrices; attention scores;
        scaled dot-product attention) and "Overview of Transformer Model
        Functionality" → "Attention Mechanism".
    """
    dropout = rate("dropout", dropout)
    query = ops.convert_to_tensor(query)
    key = ops.convert_to_tensor(key, dtype=query.dtype)
    value = ops.convert_to_tensor(value, dtype=query.dtype)
    if scale is None:
        scale = 1.0 / math.sqrt(float(query.shape[-1]))
    # (..., T, d_k) x (..., S, d_k) -> (..., T, S)
    scores = ops.matmul(
        ops.multiply(query, ops.cast(scale, query.dtype)),
        ops.swapaxes(key, -1, -2),
    )
    weights = masked_softmax(scores, mask)
    attended = weights
    if training and dropout > 0.0:
        attended = keras.random.dropout(weights, rate=dropout, seed=seed)
    output = ops.matmul(attended, value)  # (..., T, d_v)
    return output, weights
