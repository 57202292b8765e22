"""Multi-head attention with optional fused QKV projection and a KV cache."""

import functools
import math

import keras
from keras import ops

from refnn import kernels
from refnn._validation import boolean, positive_int, rate
from refnn.layers.attention import scaled_dot_product_attention
from refnn.layers.masks import compute_causal_mask


def _output_dim(output_dim, output_shape):
    """refnn's `output_dim` or Keras's `output_shape` (int or 1-tuple)."""
    if output_shape is None:
        return positive_int("output_dim", output_dim, allow_none=True)
    dims = (output_shape,) if isinstance(output_shape, int) else output_shape
    if not isinstance(dims, (list, tuple)) or len(dims) != 1:
        raise ValueError(
            "output_shape must be an int or a 1-tuple (refnn projects to "
            f"one feature axis), got output_shape={output_shape!r}."
        )
    dim = positive_int("output_shape", dims[0])
    if output_dim not in (None, dim):
        raise ValueError(
            f"output_dim={output_dim!r} and output_shape={output_shape!r} "
            "disagree; pass one of them."
        )
    return dim


def _check_attention_axes(attention_axes):
    axes = attention_axes
    if isinstance(axes, int) and not isinstance(axes, bool):
        axes = (axes,)
    if axes is not None and tuple(axes) not in ((1,), (-2,)):
        raise ValueError(
            "attention_axes must be None or the sequence axis (1 or -2) of "
            "(batch_size, length, dim) inputs; refnn does not attend over "
            f"other axes, got attention_axes={attention_axes!r}."
        )
    return None if axes is None else tuple(axes)


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

    The code below is the reference path: the projections as einsums,
    `_compute_attention` (Keras's extension point, same signature and
    layouts) calling `scaled_dot_product_attention`. Under TensorFlow with
    the fast path on (`refnn.config.set_fast_path`), `refnn/kernels/
    attention.py` computes the same numbers with fewer, larger ops
    (unless a subclass overrides `_compute_attention`, or the attention
    mask is per head).

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
            dimension of `query`). Keras's name `output_shape=` (an int or
            a 1-tuple) is accepted too; multi-axis outputs are refused.
        attention_axes: `None` or the sequence axis (`1`, `-2`, `(1,)`);
            attention over other axes (inputs of rank > 3) is refused.
        sliding_window: optional int `w`: query `i` attends to keys `j`
            with `|i - j| < w` (with `use_causal_mask`, the `w` latest).
        use_gate: bool, multiply each head's output by
            `sigmoid(query W^G_n + b^G_n)` before the output projection.
        flash_attention: `None` or `False` (refnn has no flash kernel).
        fused_qkv: bool, use one fused Q/K/V projection (self-attention only;
            needs equal query/key/value dims and `value_dim == key_dim`).
        kernel_initializer, bias_initializer: initializers of the kernels
            and biases.
        kernel_regularizer, bias_regularizer, activity_regularizer:
            optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.
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
        attention_mask: boolean `(T, S)`, `(batch_size, T, S)` or per
            head `(batch_size, num_heads, T, S)`.
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

    >>> import numpy as np
    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.random.rand(3, 5, 8).astype("float32")
    >>> tuple(mha(x, x, use_causal_mask=True).shape)
    (3, 5, 8)

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
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        use_gate=False,
        flash_attention=None,
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        positive_int("num_heads", num_heads)
        positive_int("key_dim", key_dim)
        positive_int("value_dim", value_dim, allow_none=True)
        output_dim = _output_dim(output_dim, output_shape)
        dropout = rate("dropout", dropout)
        for name, flag in (
            ("use_bias", use_bias),
            ("fused_qkv", fused_qkv),
            ("use_gate", use_gate),
        ):
            boolean(name, flag)
        if fused_qkv and value_dim not in (None, key_dim):
            raise ValueError(
                "fused_qkv=True needs value_dim == key_dim, got "
                f"key_dim={key_dim}, value_dim={value_dim}."
            )
        if flash_attention not in (None, False):
            raise ValueError(
                "flash_attention must be None or False: refnn has no flash "
                f"attention kernel, got flash_attention={flash_attention!r}."
            )
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = float(dropout)
        self.use_bias = use_bias
        self.output_dim = output_dim
        self.fused_qkv = fused_qkv
        self.attention_axes = _check_attention_axes(attention_axes)
        self.sliding_window = positive_int(
            "sliding_window", sliding_window, allow_none=True
        )
        self.use_gate = use_gate
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.seed = seed
        self.seed_generator = None  # no RNG state without dropout
        if self.dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.scale = 1.0 / math.sqrt(float(key_dim))
        self.supports_masking = True

    def _weight(self, name, shape, bias=False):
        kind = "bias" if bias else "kernel"
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=getattr(self, f"{kind}_initializer"),
            regularizer=getattr(self, f"{kind}_regularizer"),
            constraint=getattr(self, f"{kind}_constraint"),
        )

    def _check_shapes(self, query_shape, value_shape, key_shape):
        for name, shape in (
            ("query", query_shape),
            ("value", value_shape),
            ("key", key_shape),
        ):
            if len(shape) != 3:
                raise ValueError(
                    f"{name} must have shape (batch_size, length, dim), got "
                    f"shape {tuple(shape)} (refnn attends over one sequence "
                    "axis)."
                )
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                "value and key must have the same length, got "
                f"value shape {tuple(value_shape)} and key shape "
                f"{tuple(key_shape)}."
            )

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        self._check_shapes(query_shape, value_shape, key_shape)
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
        if self.use_gate:  # Keras's order: query, key, gate, value, output
            self.gate_kernel = self._weight("gate_kernel", (dq, n, hv))
            if self.use_bias:
                self.gate_bias = self._weight("gate_bias", (n, hv), True)
        if not self.fused_qkv:
            self.value_kernel = self._weight("value_kernel", (dv, n, hv))
            if self.use_bias:
                self.value_bias = self._weight("value_bias", (n, hv), True)
        out = self.output_dim or dq
        self.output_kernel = self._weight("output_kernel", (n, hv, out))
        if self.use_bias:
            self.output_bias = self._weight("output_bias", (out,), True)

    # -- reference path -----------------------------------------------------
    def _projection(self, x, name):
        """`x W_n + b_n` for every head: `(B, T, D)` -> `(B, T, N, H)`."""
        if self.fused_qkv:
            i = {"query": 0, "key": 1, "value": 2}[name]
            kernel = self.qkv_kernel[:, i]
            bias = self.qkv_bias[i] if self.use_bias else None
        else:
            kernel = getattr(self, f"{name}_kernel")
            bias = getattr(self, f"{name}_bias") if self.use_bias else None
        y = ops.einsum("btd,dnh->btnh", x, kernel)
        return y if bias is None else y + bias

    def _compute_attention(
        self,
        query,
        key,
        value,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
    ):
        """Attention of projected heads (Keras's extension point).

        Args:
            query: `(batch_size, T, num_heads, key_dim)`.
            key: `(batch_size, S, num_heads, key_dim)`.
            value: `(batch_size, S, num_heads, value_dim)`.
            attention_mask: `None`, boolean `(batch_size|1, T, S)` or
                `(batch_size|1, num_heads|1, T, S)`.
            training: whether dropout is active.
            return_attention_scores: unused here (the weights are always
                returned), kept for Keras's signature.

        Returns:
            `(output, weights)`: `(batch_size, T, num_heads, value_dim)`
            and `(batch_size, num_heads, T, S)`.
        """
        q, k, v = (ops.transpose(z, (0, 2, 1, 3)) for z in (query, key, value))
        mask = attention_mask
        if mask is not None and len(mask.shape) == 3:
            mask = ops.expand_dims(mask, 1)  # the same for every head
        out, weights = scaled_dot_product_attention(
            q,  # (B, N, T, H)
            k,  # (B, N, S, H)
            v,
            mask=mask,
            dropout=self.dropout,
            training=training,
            seed=self.seed_generator,
            scale=self.scale,
        )
        return ops.transpose(out, (0, 2, 1, 3)), weights  # (B, T, N, Hv)

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
        """All masks ANDed: `None`, `(B|1, T|1, S)`, or `(B|1, N|1, T, S)`
        when `attention_mask` is per head."""
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
        if self.sliding_window is not None:
            i = ops.arange(t, dtype="int32")[:, None] + cache_index  # (T, 1)
            j = ops.arange(s, dtype="int32")[None, :]  # (1, S)
            mask = _and(mask, (ops.abs(i - j) < self.sliding_window)[None])
        if attention_mask is not None:
            attention_mask = ops.cast(attention_mask, "bool")
            if len(attention_mask.shape) == 2:  # (T, S), every batch row
                attention_mask = attention_mask[None]
            if len(attention_mask.shape) == 4 and mask is not None:
                mask = ops.expand_dims(mask, 1)  # (B|1, 1, T|1, S)
            mask = _and(mask, attention_mask)
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
        self._check_shapes(query.shape, value.shape, key.shape)
        if cache is not None:
            # (B, 2, S_max, N, H), in the compute dtype like the heads.
            cache = ops.cast(cache, self.compute_dtype)
            value_mask = key_mask = None  # they describe the new step only

        # masks(t, s, cache_index): all masks merged, once t, s are known.
        masks = functools.partial(
            self._merge_masks,
            query_mask,
            value_mask,
            key_mask,
            attention_mask,
            use_causal_mask,
        )

        per_head_mask = (
            attention_mask is not None and len(attention_mask.shape) == 4
        )
        own_attention = (
            type(self)._compute_attention
            is MultiHeadAttention._compute_attention
        )
        if kernels.enabled() and own_attention and not per_head_mask:
            from refnn.kernels.attention import multi_head_attention

            key_in = query if self_attention else key
            value_in = query if self_attention else value
            out, weights, cache = multi_head_attention(
                self,
                query,
                key_in,
                value_in,
                masks,
                training,
                return_attention_scores,
                cache,
                cache_update_index,
            )  # out: (B, T, N, Hv)
        else:
            q = self._projection(query, "query")  # (B, T, N, H)
            if cache is None:
                k = self._projection(key, "key")  # (B, S, N, H)
                v = self._projection(value, "value")
                index = 0
            else:
                if cache_update_index is not None:
                    kv_new = ops.stack(
                        [
                            self._projection(key, "key"),
                            self._projection(value, "value"),
                        ],
                        axis=1,
                    )  # (B, 2, T, N, H)
                    start = [0, 0, cache_update_index, 0, 0]
                    cache = ops.slice_update(
                        cache, start, ops.cast(kv_new, cache.dtype)
                    )
                k, v = cache[:, 0], cache[:, 1]  # (B, S_max, N, H)
                index = 0 if cache_update_index is None else cache_update_index
            mask = masks(ops.shape(q)[1], ops.shape(k)[1], index)
            out, weights = self._compute_attention(
                q, k, v, mask, training, return_attention_scores
            )  # (B, T, N, Hv)
        if self.use_gate:
            gate = ops.einsum("btd,dnh->btnh", query, self.gate_kernel)
            if self.use_bias:
                gate = gate + self.gate_bias
            out = out * ops.sigmoid(gate)
        # Σ_n head_n W^O_n + b^O
        bias = self.output_bias if self.use_bias else None
        if kernels.enabled():
            from refnn.kernels.attention import output_projection

            output = output_projection(out, self.output_kernel, bias)
        else:
            output = ops.einsum("btnh,nho->bto", out, self.output_kernel)
            if bias is not None:
                output = output + bias  # (B, T, O)
        result = (output,)
        if return_attention_scores:
            result += (weights,)
        if cache is not None:
            result += (cache,)
        return result[0] if len(result) == 1 else result

    def compute_output_shape(
        self, query_shape, value_shape=None, key_shape=None
    ):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        self._check_shapes(query_shape, value_shape, key_shape)
        return tuple(query_shape[:-1]) + (self.output_dim or query_shape[-1],)

    def compute_output_spec(
        self,
        query,
        value=None,
        key=None,
        return_attention_scores=False,
        cache=None,
        **kwargs,
    ):
        value = query if value is None else value
        shape = self.compute_output_shape(
            query.shape, value.shape, None if key is None else key.shape
        )
        result = (keras.KerasTensor(shape, dtype=self.compute_dtype),)
        if return_attention_scores:
            t = query.shape[1]
            s = value.shape[1] if cache is None else cache.shape[2]
            scores = (query.shape[0], self.num_heads, t, s)
            result += (keras.KerasTensor(scores, dtype=self.compute_dtype),)
        if cache is not None:
            result += (keras.KerasTensor(cache.shape, dtype=cache.dtype),)
        return result[0] if len(result) == 1 else result

    def enable_lora(self, *args, **kwargs):
        raise NotImplementedError(
            "refnn's MultiHeadAttention does not support LoRA: its "
            "projections are plain weights, not EinsumDense layers. Use "
            "keras.layers.MultiHeadAttention for LoRA fine-tuning."
        )

    def quantize(self, mode=None, *args, **kwargs):
        raise NotImplementedError(
            "refnn's MultiHeadAttention does not support quantization "
            f"(got mode={mode!r}): its projections are plain weights, not "
            "EinsumDense layers."
        )

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_dim": self.output_dim,
            "fused_qkv": self.fused_qkv,
            "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window,
            "use_gate": self.use_gate,
            "kernel_initializer": ser(self.kernel_initializer),
            "bias_initializer": ser(self.bias_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
            "bias_constraint": ser(self.bias_constraint),
            "seed": self.seed,
        }
