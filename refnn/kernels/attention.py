"""Fast path of `refnn.layers.MultiHeadAttention` (TensorFlow).

Same weights and numbers as the layer's reference path
(`_compute_attention` -> `scaled_dot_product_attention`), computed
leaner:

* projections as 2-D matmuls; self-attention with equal head sizes runs
  one matmul on the three kernels stacked (or on `fused_qkv`'s kernel);
* the mask enters the scores as an additive bias of the mask's own
  (small) shape; a fully masked query row is zeroed on the `(B, N, T, H)`
  output rather than on the `(B, N, T, S)` weights;
* one decoding step (`T == 1` with a cache) uses broadcast products
  instead of batched matmuls, and a spelled-out softmax;
* the key/value cache is updated with one scatter;
* dropout on the weights draws its mask with `fast_dropout`.

Proved equal to the reference path (outputs, scores, caches and
gradients) by `tests/kernels/attention_test.py`.
"""

from keras import ops

from refnn.kernels.dropout import fast_dropout
from refnn.kernels.transformer import linear
from refnn.layers.attention import _large_negative


def update_cache(cache, kv_new, index):
    """Writes `kv_new` `(B, T, 2, N, H)` (keys, values) at position `index`
    of a `(B, 2, S, N, H)` cache with one scatter."""
    shape = ops.shape(kv_new)
    b, t = shape[0], shape[1]
    grid = (b, t, 2)
    rows = ops.broadcast_to(ops.arange(b, dtype="int32")[:, None, None], grid)
    pos = ops.arange(t, dtype="int32") + ops.cast(index, "int32")
    pos = ops.broadcast_to(pos[None, :, None], grid)
    kv = ops.broadcast_to(ops.arange(2, dtype="int32")[None, None, :], grid)
    indices = ops.reshape(ops.stack([rows, kv, pos], axis=-1), (-1, 3))
    updates = ops.reshape(
        ops.cast(kv_new, cache.dtype), (-1,) + tuple(cache.shape[3:])
    )  # (B * T * 2, N, H)
    return ops.scatter_update(cache, indices, updates)


def _concat(variables, axis):
    # Reads the values first: ops.concatenate / ops.stack mis-handle keras
    # Variables on the TF backend (keras 3.15).
    return ops.concatenate([ops.convert_to_tensor(v) for v in variables], axis)


def project(layer, x, kernel, bias):
    """(B, T, D) x (D, k, N, H) -> (B, T, k, N, H), as one 2-D matmul."""
    n, h = layer.num_heads, kernel.shape[-1]
    y = linear(x, ops.reshape(kernel, (kernel.shape[0], -1)), bias)
    shape = ops.shape(x)
    return ops.reshape(y, (shape[0], shape[1], -1, n, h))  # (B,T,k,N,H)


def project_query(layer, query):
    """Queries `(B, T, N, H)`."""
    if layer.fused_qkv:
        bias = layer.qkv_bias[0] if layer.use_bias else None
        return project(layer, query, layer.qkv_kernel[:, 0], bias)[:, :, 0]
    bias = layer.query_bias if layer.use_bias else None
    return project(layer, query, layer.query_kernel, bias)[:, :, 0]


def project_key_value(layer, key, value):
    """Keys and values in the cache layout `(B, S, N, H)`."""
    if layer.fused_qkv:
        bias = layer.qkv_bias[1:] if layer.use_bias else None
        kv = project(layer, key, layer.qkv_kernel[:, 1:], bias)
        return kv[:, :, 0], kv[:, :, 1]
    kb = layer.key_bias if layer.use_bias else None
    vb = layer.value_bias if layer.use_bias else None
    return (
        project(layer, key, layer.key_kernel, kb)[:, :, 0],
        project(layer, value, layer.value_kernel, vb)[:, :, 0],
    )


def qkv_weights(layer):
    """One `(D, 3 * N, H)` kernel (the memory layout of `(D, 3, N, H)`)."""
    if layer.fused_qkv:
        return layer.qkv_kernel, (layer.qkv_bias if layer.use_bias else None)
    kernel = _concat(
        [layer.query_kernel, layer.key_kernel, layer.value_kernel], 1
    )
    bias = None
    if layer.use_bias:
        bias = _concat([layer.query_bias, layer.key_bias, layer.value_bias], 0)
    return kernel, bias


def attend(layer, q, k, v, mask, training, return_weights):
    """softmax(Q Kᵀ/√d + M) V for (B, N, T, H) inputs, mask (B|1, T|1, S)."""
    q = q * ops.cast(layer.scale, q.dtype)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2))  # (B, N, T, S)
    if mask is not None:
        bias = ops.where(mask, 0.0, _large_negative(scores.dtype))
        scores = scores + ops.cast(bias[:, None], scores.dtype)
    weights = ops.softmax(scores, axis=-1)
    attended = weights
    if training and layer.dropout > 0.0:
        attended = fast_dropout(weights, layer.dropout, layer.seed_generator)
    out = ops.matmul(attended, v)  # (B, N, T, Hv)
    if mask is not None:
        visible = ops.cast(ops.any(mask, axis=-1), out.dtype)  # (B, T|1)
        out = out * visible[:, None, :, None]
        if return_weights:
            weights = weights * visible[:, None, :, None]
    return out, weights


def attend_one(layer, q, k, v, mask, training, return_weights):
    """`attend` for one query position, in the cache layout: `q` is
    `(B, 1, N, H)`, `k`/`v` are `(B, S, N, H)`."""
    q = q * ops.cast(layer.scale, q.dtype)
    scores = ops.sum(k * q, axis=-1)  # (B, S, N)
    scores = ops.transpose(scores, (0, 2, 1))  # (B, N, S)
    if mask is not None:
        bias = ops.where(mask[:, 0], 0.0, _large_negative(scores.dtype))
        scores = scores + ops.cast(bias[:, None], scores.dtype)
    scores = scores - ops.max(scores, axis=-1, keepdims=True)
    weights = ops.exp(scores)
    weights = weights / ops.sum(weights, axis=-1, keepdims=True)
    attended = weights
    if training and layer.dropout > 0.0:
        attended = fast_dropout(weights, layer.dropout, layer.seed_generator)
    attended = ops.transpose(attended, (0, 2, 1))  # (B, S, N)
    out = ops.sum(attended[..., None] * v, axis=1)  # (B, N, Hv)
    weights = weights[:, :, None]  # (B, N, 1, S)
    if mask is not None:
        visible = ops.cast(ops.any(mask, axis=-1), out.dtype)  # (B|1, 1)
        out = out * visible[:, :, None]
        if return_weights:
            weights = weights * visible[:, None, :, None]
    return out[:, None], weights  # (B, 1, N, Hv)


def multi_head_attention(
    layer, query, key, value, masks, training, return_weights, cache, index
):
    """The layer's attention from inputs to heads: `(out, weights, cache)`
    with `out` `(B, T, N, Hv)`. `masks(t, s, index)` merges the masks into
    a `(B|1, T|1, S)` boolean tensor (or `None`)."""
    self_attention = value is query and key is query
    same_dims = layer.fused_qkv or layer.key_dim == layer.value_dim
    if cache is None:
        if self_attention and same_dims:
            qkv = project(layer, query, *qkv_weights(layer))  # B,T,3,N,H
            qkv = ops.transpose(qkv, (2, 0, 3, 1, 4))  # (3, B, N, T, H)
            q, k, v = ops.unstack(qkv, 3, axis=0)
        else:
            q = ops.transpose(project_query(layer, query), (0, 2, 1, 3))
            k, v = project_key_value(layer, key, value)
            k = ops.transpose(k, (0, 2, 1, 3))  # (B, N, S, H)
            v = ops.transpose(v, (0, 2, 1, 3))
        mask = masks(ops.shape(q)[2], ops.shape(k)[2], 0)
        out, weights = attend(layer, q, k, v, mask, training, return_weights)
        return ops.transpose(out, (0, 2, 1, 3)), weights, None

    cache = ops.convert_to_tensor(cache)
    if index is not None and self_attention and same_dims:
        qkv = project(layer, query, *qkv_weights(layer))  # (B, T, 3, N, H)
        q = qkv[:, :, 0]  # (B, T, N, H)
        cache = update_cache(cache, qkv[:, :, 1:], index)
    else:
        q = project_query(layer, query)  # (B, T, N, H)
        if index is not None:
            k_new, v_new = project_key_value(layer, key, value)
            kv_new = ops.stack([k_new, v_new], axis=2)  # (B, T, 2, N, H)
            cache = update_cache(cache, kv_new, index)
    k, v = ops.unstack(cache, 2, axis=1)  # (B, S, N, H) each
    t, s = ops.shape(q)[1], ops.shape(k)[1]
    mask = masks(t, s, 0 if index is None else index)
    if isinstance(t, int) and t == 1:  # one decoding step
        out, weights = attend_one(
            layer, q, k, v, mask, training, return_weights
        )
        return out, weights, cache
    q, k, v = (ops.transpose(z, (0, 2, 1, 3)) for z in (q, k, v))
    out, weights = attend(layer, q, k, v, mask, training, return_weights)
    return ops.transpose(out, (0, 2, 1, 3)), weights, cache


def output_projection(out, kernel, bias):
    """`Σ_n out_n W^O_n + b^O` for `out` `(B, T, N, Hv)` as one 2-D matmul."""
    shape = ops.shape(out)
    out = ops.reshape(out, (shape[0], shape[1], -1))  # (B, T, N * Hv)
    return linear(out, ops.reshape(kernel, (-1, kernel.shape[-1])), bias)
