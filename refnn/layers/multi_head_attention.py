"""Multi-head attention with optional fused QKV projection and a KV cache."""

import math

import keras
from keras import ops

from refnn.layers.attention import _large_negative
from refnn.layers.dropout import fast_dropout
from refnn.layers.masks import compute_causal_mask


def linear(x, kernel, bias=None, activation=None):
    """`activation(x @ kernel + bias)` for `x` `(..., D)` as one 2-D matmul.

    `ops.matmul` of a 3-D tensor with a 2-D kernel becomes `tensordot` (a
    dozen shape ops) on TensorFlow; flattening to `(batch * length, D)`
    runs one plain matmul, and keeping matmul, bias and activation
    together on the 2-D tensor lets TensorFlow fuse them. `kernel` is
    `(D, K)`, `bias` broadcasts to `K`.
    """
    shape = ops.shape(x)
    y = ops.matmul(ops.reshape(x, (-1, kernel.shape[0])), kernel)  # (B*T, K)
    if bias is not None:
        y = y + ops.reshape(bias, (-1,))
    if activation is not None:
        y = activation(y)
    return ops.reshape(y, tuple(shape[:-1]) + (kernel.shape[-1],))


def _update_cache(cache, kv_new, index):
    """Writes `kv_new` `(B, T, 2, N, H)` (keys, values) at position `index`
    of a `(B, 2, S, N, H)` cache with one scatter: no copy of the key and
    value slices, no re-stacking (`slice_update` is an XLA op on TF)."""
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


@keras.saving.register_keras_serializable(package="refnn")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention.

    Each head `n` projects the inputs with its own matrices and attends:

        Q_n = query W^Q_n + b^Q_n     K_n = key W^K_n + b^K_n
        V_n = value W^V_n + b^V_n
        head_n = softmax(Q_n K_nᵀ / √key_dim + M) V_n
        output = Σ_n head_n W^O_n + b^O

    where `M` is -1e9 at masked positions (their weight is then set to 0, so
    a fully masked query row gives zeros, never NaN).

    The weights use the layout of `keras.layers.MultiHeadAttention`, in the
    same order, so `layer.set_weights(keras_mha.get_weights())` copies a
    built-in layer: query/key/value kernels `(dim, num_heads, head_dim)` with
    biases `(num_heads, head_dim)`, output kernel
    `(num_heads, value_dim, output_dim)` with bias `(output_dim,)`. With
    `fused_qkv=True` the three input projections are one kernel
    `(dim, 3, num_heads, head_dim)` (Q, K, V stacked on axis 1) and one bias
    `(3, num_heads, head_dim)`, self-attention only: call it with
    `value=None` (or the very same tensor as `query`). Without
    `fused_qkv`, self-attention (`value is query`, equal head sizes) still
    runs one matmul on the three kernels stacked at call time.

    Differences from keras: an explicit `query_mask` argument is honoured
    (keras reads only the Keras mask of `query`), and a query row with no
    visible key always gets zero weights and a zero attention output
    (keras's fused kernel, used when scores are not returned, averages all
    values there instead; outputs agree on every row that sees a key).

    For autoregressive decoding the layer keeps a key/value cache like
    keras_hub's `CachedMultiHeadAttention`: `cache` has shape
    `(batch_size, 2, max_length, num_heads, head_dim)` (keys, then values).
    With `cache_update_index=i` the keys/values of the new positions are
    written into the cache at `i` and the updated cache is returned; with
    `cache_update_index=None` the cached keys/values are used as they are.

    Args:
        num_heads: int, number of attention heads.
        key_dim: int, size of each head for query and key.
        value_dim: int, size of each head for value (default `key_dim`).
        dropout: float, dropout rate on the attention weights.
        use_bias: bool, whether the projections have biases.
        output_dim: int, size of the output features (default: the last
            dimension of `query`).
        fused_qkv: bool, use one fused Q/K/V projection (self-attention only;
            needs equal query/key/value dims and `value_dim == key_dim`).
        kernel_initializer: initializer for the kernels.
        bias_initializer: initializer for the biases.
        seed: optional int seed for the dropout.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        query: `(batch_size, T, query_dim)`.
        value: `(batch_size, S, value_dim)`; None means self-attention
            (`value = query`).
        key: `(batch_size, S, key_dim)`, default `value`.
        query_mask: `(batch_size, T)` boolean, filled from the Keras mask of
            `query` when not given; masked query rows get zero weights.
        value_mask: `(batch_size, S)` boolean (Keras mask of `value`).
        key_mask: `(batch_size, S)` boolean (Keras mask of `key`).
        attention_mask: boolean, broadcastable to `(batch_size, T, S)`.
        return_attention_scores: bool, also return the weights
            `(batch_size, num_heads, T, S)`.
        training: bool, whether dropout is active.
        use_causal_mask: bool, query `i` attends only to keys `j <= i`
            (`j <= i + cache_update_index` with a cache).
        cache: optional `(batch_size, 2, max_length, num_heads, head_dim)`
            key/value cache (inference only; value/key masks are ignored).
        cache_update_index: int or int tensor, where to write the new
            keys/values into `cache`.

    Returns:
        `output` `(batch_size, T, output_dim)`, or a tuple
        `(output[, attention_scores][, cache])`.

    Example:

    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.random.rand(3, 5, 8).astype("float32")
    >>> mha(x, x, use_causal_mask=True).shape
    TensorShape([3, 5, 8])

    References:
        seed 002, "2. Transformer Architecture" → "Key Mechanisms" →
        "Self-Attention" (Query, Key, Value matrices, scaled dot-product
        attention, multi-head attention) and "Overview of Transformer Model
        Functionality" → "Attention Mechanism".
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_dim=None,
        fused_qkv=False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed=None,
        **kwargs,
    ):
        for name, val in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(val, int) or isinstance(val, bool) or val <= 0:
                raise ValueError(
                    f"{name} must be a positive integer, got {val}."
                )
        for name, val in (("value_dim", value_dim), ("output_dim", output_dim)):
            if val is not None and (not isinstance(val, int) or val <= 0):
                raise ValueError(
                    f"{name} must be a positive integer or None, got {val}."
                )
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        if fused_qkv and value_dim not in (None, key_dim):
            raise ValueError(
                "fused_qkv=True needs value_dim == key_dim, got "
                f"key_dim={key_dim}, value_dim={value_dim}."
            )
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = float(dropout)
        self.use_bias = use_bias
        self.output_dim = output_dim
        self.fused_qkv = bool(fused_qkv)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.scale = 1.0 / math.sqrt(float(key_dim))
        self.supports_masking = True

    def _weight(self, name, shape, bias=False):
        init = self.bias_initializer if bias else self.kernel_initializer
        return self.add_weight(name=name, shape=shape, initializer=init)

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        if len(query_shape) != 3:
            raise ValueError(
                "query must have shape (batch_size, length, dim), got shape "
                f"{tuple(query_shape)}."
            )
        n, hk, hv = self.num_heads, self.key_dim, self.value_dim
        dq, dk, dv = query_shape[-1], key_shape[-1], value_shape[-1]
        if self.fused_qkv:
            if not dq == dk == dv:
                raise ValueError(
                    "fused_qkv=True is self-attention only; query, key and "
                    f"value dims must match, got {dq}, {dk}, {dv}."
                )
            self.qkv_kernel = self._weight("qkv_kernel", (dq, 3, n, hk))
            if self.use_bias:
                self.qkv_bias = self._weight("qkv_bias", (3, n, hk), True)
        else:
            self.query_kernel = self._weight("query_kernel", (dq, n, hk))
            if self.use_bias:
                self.query_bias = self._weight("query_bias", (n, hk), True)
            self.key_kernel = self._weight("key_kernel", (dk, n, hk))
            if self.use_bias:
                self.key_bias = self._weight("key_bias", (n, hk), True)
            self.value_kernel = self._weight("value_kernel", (dv, n, hv))
            if self.use_bias:
                self.value_bias = self._weight("value_bias", (n, hv), True)
        out = self.output_dim or dq
        self.output_kernel = self._weight("output_kernel", (n, hv, out))
        if self.use_bias:
            self.output_bias = self._weight("output_bias", (out,), True)

    # -- projections ---------------------------------------------------------
    def _project(self, x, kernel, bias):
        # (B, T, D) x (D, k, N, H) -> (B, T, k, N, H), as one 2-D matmul.
        n, h = self.num_heads, kernel.shape[-1]
        y = linear(x, ops.reshape(kernel, (kernel.shape[0], -1)), bias)
        shape = ops.shape(x)
        return ops.reshape(y, (shape[0], shape[1], -1, n, h))  # (B,T,k,N,H)

    def _project_query(self, query):
        if self.fused_qkv:
            bias = self.qkv_bias[0] if self.use_bias else None
            q = self._project(query, self.qkv_kernel[:, 0], bias)[:, :, 0]
        else:
            bias = self.query_bias if self.use_bias else None
            q = self._project(query, self.query_kernel, bias)[:, :, 0]
        return ops.transpose(q, (0, 2, 1, 3))  # (B, N, T, H)

    def _project_key_value(self, key, value):
        # Returns keys and values in the cache layout (B, S, N, H).
        if self.fused_qkv:
            bias = self.qkv_bias[1:] if self.use_bias else None
            kv = self._project(key, self.qkv_kernel[:, 1:], bias)
            return kv[:, :, 0], kv[:, :, 1]  # (B, S, N, H) each
        kb = self.key_bias if self.use_bias else None
        vb = self.value_bias if self.use_bias else None
        return (
            self._project(key, self.key_kernel, kb)[:, :, 0],
            self._project(value, self.value_kernel, vb)[:, :, 0],
        )

    def _qkv_weights(self):
        if self.fused_qkv:
            kernel = self.qkv_kernel
            bias = self.qkv_bias if self.use_bias else None
        else:  # self-attention on separate weights: still one matmul
            # (D, N, H) x 3 -> (D, 3 * N, H), the memory layout of
            # (D, 3, N, H); `_project` splits the heads again.
            kernel = _concat(
                [self.query_kernel, self.key_kernel, self.value_kernel], 1
            )
            bias = None
            if self.use_bias:
                bias = _concat(
                    [self.query_bias, self.key_bias, self.value_bias], 0
                )  # (3 * N, H)
        return kernel, bias

    def _project_qkv(self, x):
        kernel, bias = self._qkv_weights()
        qkv = self._project(x, kernel, bias)  # (B, T, 3, N, H)
        qkv = ops.transpose(qkv, (2, 0, 3, 1, 4))  # (3, B, N, T, H)
        q, k, v = ops.unstack(qkv, 3, axis=0)
        return q, k, v

    # -- attention -----------------------------------------------------------
    def _attend(self, q, k, v, mask, training, return_weights):
        """softmax(Q Kᵀ/√d + M) V for (B, N, T, H) inputs.

        Same numbers as `masked_softmax` (and keras), computed leaner: the
        mask enters as an additive bias of the mask's own (small) shape, and
        a fully masked query row is zeroed on the `(B, N, T, H)` output
        rather than on the `(B, N, T, S)` weights. For any row with a
        visible key the masked weights underflow to exactly 0 either way.
        """
        q = q * ops.cast(self.scale, q.dtype)
        scores = ops.matmul(q, ops.swapaxes(k, -1, -2))  # (B, N, T, S)
        if mask is not None:
            big = _large_negative(scores.dtype)
            bias = ops.where(mask, 0.0, big)  # (B|1, T|1, S)
            scores = scores + ops.cast(bias[:, None], scores.dtype)
        weights = ops.softmax(scores, axis=-1)
        attended = weights
        if training and self.dropout > 0.0:
            attended = fast_dropout(
                weights, self.dropout, seed=self.seed_generator
            )
        out = ops.matmul(attended, v)  # (B, N, T, Hv)
        if mask is not None:
            visible = ops.cast(ops.any(mask, axis=-1), out.dtype)  # (B, T|1)
            out = out * visible[:, None, :, None]
            if return_weights:
                weights = weights * visible[:, None, :, None]
        return out, weights

    def _attend_one(self, q, k, v, mask, training, return_weights):
        """`_attend` for one query position, in the cache layout.

        `q` is `(B, 1, N, H)`, `k`/`v` are `(B, S, N, H)` as stored in the
        cache. A single decode step is dominated by fixed per-op costs, so
        this avoids the batched matmuls and the transpose of the whole
        cache: scores and outputs are broadcast products summed over one
        axis, and the `(B, N, S)` softmax is spelled out (faster than the
        softmax kernel at this size). Same numbers as `_attend`.
        """
        q = q * ops.cast(self.scale, q.dtype)
        scores = ops.sum(k * q, axis=-1)  # (B, S, N)
        scores = ops.transpose(scores, (0, 2, 1))  # (B, N, S)
        if mask is not None:
            big = _large_negative(scores.dtype)
            bias = ops.where(mask[:, 0], 0.0, big)  # (B|1, S)
            scores = scores + ops.cast(bias[:, None], scores.dtype)
        scores = scores - ops.max(scores, axis=-1, keepdims=True)
        weights = ops.exp(scores)
        weights = weights / ops.sum(weights, axis=-1, keepdims=True)
        attended = weights
        if training and self.dropout > 0.0:
            attended = fast_dropout(
                weights, self.dropout, seed=self.seed_generator
            )
        attended = ops.transpose(attended, (0, 2, 1))  # (B, S, N)
        out = ops.sum(attended[..., None] * v, axis=1)  # (B, N, Hv)
        weights = weights[:, :, None]  # (B, N, 1, S)
        if mask is not None:
            visible = ops.cast(ops.any(mask, axis=-1), out.dtype)  # (B|1, 1)
            out = out * visible[:, :, None]
            if return_weights:
                weights = weights * visible[:, None, :, None]
        return out[:, None], weights  # (B, 1, N, Hv)

    def _merge_masks(
        self,
        query_mask,
        value_mask,
        key_mask,
        attention_mask,
        use_causal_mask,
        t,
        s,
        cache_index,
    ):
        mask = None

        def _and(a, b):
            return b if a is None else ops.logical_and(a, b)

        if query_mask is not None:
            mask = ops.expand_dims(ops.cast(query_mask, "bool"), -1)  # B,T,1
        for m in (value_mask, key_mask):
            if m is not None:
                mask = _and(mask, ops.expand_dims(ops.cast(m, "bool"), -2))
        if use_causal_mask:
            mask = _and(mask, compute_causal_mask(1, s, t, cache_index))
        if attention_mask is not None:
            mask = _and(mask, ops.cast(attention_mask, "bool"))
        return mask

    def call(
        self,
        query,
        value=None,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
        cache=None,
        cache_update_index=None,
    ):
        self_attention = value is None or (
            value is query and (key is None or key is query)
        )
        if value is None:
            value = query
        if key is None:
            key = value
        if self.fused_qkv and not self_attention:
            raise ValueError(
                "fused_qkv=True computes self-attention only: call it with "
                "value=None (or the same tensor as query) and key=None."
            )
        if cache is None and cache_update_index is not None:
            raise ValueError(
                "cache_update_index must be None when cache is None, got "
                f"cache_update_index={cache_update_index}."
            )

        if cache is None:
            same_dims = self.fused_qkv or self.key_dim == self.value_dim
            if self_attention and same_dims:
                q, k, v = self._project_qkv(query)  # (B, N, T, H) each
            else:
                q = self._project_query(query)
                k, v = self._project_key_value(key, value)
                k = ops.transpose(k, (0, 2, 1, 3))  # (B, N, S, H)
                v = ops.transpose(v, (0, 2, 1, 3))
        else:
            cache = ops.convert_to_tensor(cache)
            same_dims = self.fused_qkv or self.key_dim == self.value_dim
            if cache_update_index is not None and self_attention and same_dims:
                qkv = self._project(query, *self._qkv_weights())  # B,T,3,N,H
                q = qkv[:, :, 0]  # (B, T, N, H)
                kv_new = qkv[:, :, 1:]  # (B, T, 2, N, H)
                cache = _update_cache(cache, kv_new, cache_update_index)
            else:
                q = self._project_query(query)
                q = ops.transpose(q, (0, 2, 1, 3))  # (B, T, N, H)
                if cache_update_index is not None:
                    k_new, v_new = self._project_key_value(key, value)
                    kv_new = ops.stack([k_new, v_new], axis=2)  # B,T,2,N,H
                    cache = _update_cache(cache, kv_new, cache_update_index)
            k, v = ops.unstack(cache, 2, axis=1)  # (B, S, N, H) each
            value_mask = key_mask = None  # they describe the new step only

        if cache is not None:  # q, k, v: (B, T, N, H), (B, S, N, H) x 2
            t, s = ops.shape(q)[1], ops.shape(k)[1]
        else:  # (B, N, T, H), (B, N, S, H) x 2
            t, s = ops.shape(q)[2], ops.shape(k)[2]
        mask = self._merge_masks(
            query_mask,
            value_mask,
            key_mask,
            attention_mask,
            use_causal_mask,
            t,
            s,
            0 if cache_update_index is None else cache_update_index,
        )
        if cache is not None and isinstance(t, int) and t == 1:  # one step
            out, weights = self._attend_one(
                q, k, v, mask, training, return_attention_scores
            )  # (B, 1, N, Hv)
        else:
            if cache is not None:
                q, k, v = (ops.transpose(z, (0, 2, 1, 3)) for z in (q, k, v))
            out, weights = self._attend(
                q, k, v, mask, training, return_attention_scores
            )
            out = ops.transpose(out, (0, 2, 1, 3))  # (B, T, N, Hv)
        shape = ops.shape(out)
        out = ops.reshape(out, (shape[0], shape[1], -1))  # (B, T, N * Hv)
        kernel = self.output_kernel
        out = linear(
            out,
            ops.reshape(kernel, (-1, kernel.shape[-1])),
            self.output_bias if self.use_bias else None,
        )  # (B, T, O)
        result = (out,)
        if return_attention_scores:
            result += (weights,)
        if cache is not None:
            result += (cache,)
        return result[0] if len(result) == 1 else result

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_dim": self.output_dim,
            "fused_qkv": self.fused_qkv,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "bias_initializer": keras.initializers.serialize(
                self.bias_initializer
            ),
            "seed": self.seed,
        }
