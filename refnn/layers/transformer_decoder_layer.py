"""Transformer decoder block: causal self-attention, cross-attention, FFN."""

import keras
from keras import ops

from refnn.kernels import transformer as fast
from refnn.layers.masks import (
    compute_causal_mask,
    merge_padding_and_attention_mask,
)
from refnn.layers.multi_head_attention import MultiHeadAttention
from refnn.layers.transformer_encoder_layer import (
    _check_block_args,
    _head_dim,
)


@keras.saving.register_keras_serializable(package="refnn")
class TransformerDecoderLayer(keras.layers.Layer):
    """One Transformer decoder block, with KV caches for fast generation.

    Post-norm (`normalize_first=False`):

        h₁ = LayerNorm(x + Dropout(MHA(x, x, causal)))       masked self-attn
        h₂ = LayerNorm(h₁ + Dropout(MHA(h₁, encoder)))        cross-attention
        y  = LayerNorm(h₂ + Dropout(W₂ act(W₁ h₂ + b₁) + b₂))

    Pre-norm (`normalize_first=True`) normalizes the input of each sub-block
    instead (`h = x + Dropout(Sub(LayerNorm(x)))`). Without an
    `encoder_sequence` (decoder-only, GPT) the cross-attention sub-block is
    absent; whether it exists is fixed by the first call.

    Same constructor arguments, weight layout and call API as
    `keras_hub.layers.TransformerDecoder`. For generation pass
    `self_attention_cache` `(batch_size, 2, max_length, num_heads,
    head_dim)` and `self_attention_cache_update_index` (the position of the
    token(s) being fed); the block then attends over the cache and returns
    the updated cache. The causal mask is offset by the update index, so
    step-by-step cached decoding equals recomputing the whole prefix.

    Args:
        intermediate_dim: int, hidden size of the feed-forward network.
        num_heads: int, number of attention heads.
        dropout: float, dropout rate.
        activation: activation of the feed-forward network.
        layer_norm_epsilon: float, epsilon of the layer norms.
        kernel_initializer: initializer of all kernels.
        bias_initializer: initializer of all biases.
        normalize_first: bool, pre-norm instead of post-norm.
        fused_qkv: bool, fuse the self-attention Q/K/V projections.
        **kwargs: base layer keyword arguments.

    Call arguments:
        decoder_sequence: `(batch_size, T, hidden_dim)`.
        encoder_sequence: optional `(batch_size, S, encoder_dim)`.
        decoder_padding_mask: optional `(batch_size, T)` boolean.
        decoder_attention_mask: optional `(batch_size, T, T)` boolean.
        encoder_padding_mask: optional `(batch_size, S)` boolean.
        encoder_attention_mask: optional `(batch_size, T, S)` boolean.
        self_attention_cache: optional self-attention KV cache.
        self_attention_cache_update_index: int or int tensor.
        cross_attention_cache: optional `(batch_size, 2, S, num_heads,
            head_dim)` cross-attention KV cache.
        cross_attention_cache_update_index: int (usually 0, to fill it) or
            None (reuse it).
        use_causal_mask: bool, default True.
        training: bool, whether dropout is active.

    Returns:
        `outputs`, `(outputs, self_attention_cache)` or
        `(outputs, self_attention_cache, cross_attention_cache)`.

    Example:

    >>> import numpy as np
    >>> block = TransformerDecoderLayer(intermediate_dim=32, num_heads=2)
    >>> tuple(block(np.random.rand(2, 5, 8).astype("float32")).shape)
    (2, 5, 8)

    References:
        seed 002, "2. Transformer Architecture" → "Core Components" →
        "Decoder" (masked self-attention, encoder-decoder attention,
        feed-forward networks, output generation) and "Architecture
        Variants" → "GPT" (decoder-only, autoregressive).
    """

    def __init__(
        self,
        intermediate_dim,
        num_heads,
        dropout=0.0,
        activation="relu",
        layer_norm_epsilon=1e-05,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        normalize_first=False,
        fused_qkv=False,
        **kwargs,
    ):
        decoder_sequence_shape = kwargs.pop("decoder_sequence_shape", None)
        encoder_sequence_shape = kwargs.pop("encoder_sequence_shape", None)
        _check_block_args(intermediate_dim, num_heads, dropout)
        super().__init__(**kwargs)
        self.intermediate_dim = intermediate_dim
        self.num_heads = num_heads
        self.dropout = float(dropout)
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.normalize_first = normalize_first
        self.fused_qkv = fused_qkv
        self.supports_masking = True
        self._decoder_sequence_shape = None
        self._encoder_sequence_shape = None
        if decoder_sequence_shape:
            # Rebuild at load time with the shapes of the first call.
            self.build(decoder_sequence_shape, encoder_sequence_shape)

    def _common(self):
        return dict(
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
        )

    def _layer_norm(self, name, shape):
        norm = fast.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(shape)
        return norm

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        decoder_sequence_shape = tuple(decoder_sequence_shape)
        if encoder_sequence_shape is not None:
            encoder_sequence_shape = tuple(encoder_sequence_shape)
        self._decoder_sequence_shape = decoder_sequence_shape
        self._encoder_sequence_shape = encoder_sequence_shape
        hidden_dim = decoder_sequence_shape[-1]
        head_dim = _head_dim(hidden_dim, self.num_heads)
        self._self_attention_layer = MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=head_dim,
            dropout=self.dropout,
            fused_qkv=self.fused_qkv,
            name="self_attention",
            **self._common(),
        )
        self._self_attention_layer.build(decoder_sequence_shape)
        self._self_attention_layer_norm = self._layer_norm(
            "self_attention_layer_norm", decoder_sequence_shape
        )
        self._cross_attention_layer = None
        if encoder_sequence_shape:
            self._cross_attention_layer = MultiHeadAttention(
                num_heads=self.num_heads,
                key_dim=head_dim,
                dropout=self.dropout,
                name="cross_attention",
                **self._common(),
            )
            self._cross_attention_layer.build(
                decoder_sequence_shape, encoder_sequence_shape
            )
            self._cross_attention_layer_norm = self._layer_norm(
                "cross_attention_layer_norm", decoder_sequence_shape
            )
        self._feedforward_intermediate_dense = fast.Dense(
            self.intermediate_dim,
            activation=self.activation,
            name="feedforward_intermediate_dense",
            **self._common(),
        )
        self._feedforward_intermediate_dense.build(decoder_sequence_shape)
        self._feedforward_output_dense = fast.Dense(
            hidden_dim, name="feedforward_output_dense", **self._common()
        )
        self._feedforward_output_dense.build(
            decoder_sequence_shape[:-1] + (self.intermediate_dim,)
        )
        self._feedforward_layer_norm = self._layer_norm(
            "feedforward_layer_norm", decoder_sequence_shape
        )
        self._dropout_layer = fast.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.built = True

    def _sublayer(self, x, residual, norm, training):
        x = self._dropout_layer(x, training=training)
        x = x + residual
        return x if self.normalize_first else norm(x)

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        cross_attention_cache_update_index=None,
        use_causal_mask=True,
        training=None,
    ):
        has_cross = self._cross_attention_layer is not None
        if has_cross != (encoder_sequence is not None):
            built = "with" if has_cross else "without"
            got = "None" if encoder_sequence is None else "a tensor"
            raise ValueError(
                f"TransformerDecoderLayer was built {built} cross-attention "
                "(fixed by its first call), so encoder_sequence must "
                f"{'' if has_cross else 'not '}be given; got "
                f"encoder_sequence={got}."
            )
        if has_cross and (
            (self_attention_cache is None) != (cross_attention_cache is None)
        ):
            raise ValueError(
                "With cross-attention, self_attention_cache and "
                "cross_attention_cache must both be given or both be None."
            )

        # Self-attention mask: padding / custom mask, then the causal part
        # (offset by the cache index so a cached step sees its prefix only).
        self_mask = merge_padding_and_attention_mask(
            decoder_sequence, decoder_padding_mask, decoder_attention_mask
        )
        if use_causal_mask:
            t = ops.shape(decoder_sequence)[1]
            s = t
            if self_attention_cache is not None:
                s = ops.shape(self_attention_cache)[2]
            index = self_attention_cache_update_index
            causal = compute_causal_mask(1, s, t, 0 if index is None else index)
            self_mask = (
                causal
                if self_mask is None
                else ops.logical_and(self_mask, causal)
            )

        x = ops.cast(decoder_sequence, self.compute_dtype)  # (B, T, H)
        residual = x
        if self.normalize_first:
            x = self._self_attention_layer_norm(x)
        x = self._self_attention_layer(
            x,
            None if self.fused_qkv else x,
            attention_mask=self_mask,
            cache=self_attention_cache,
            cache_update_index=self_attention_cache_update_index,
            training=training,
        )
        if self_attention_cache is not None:
            x, self_attention_cache = x
        x = self._sublayer(
            x, residual, self._self_attention_layer_norm, training
        )

        if has_cross:
            cross_mask = merge_padding_and_attention_mask(
                encoder_sequence, encoder_padding_mask, encoder_attention_mask
            )
            residual = x
            if self.normalize_first:
                x = self._cross_attention_layer_norm(x)
            x = self._cross_attention_layer(
                x,
                encoder_sequence,
                attention_mask=cross_mask,
                cache=cross_attention_cache,
                cache_update_index=cross_attention_cache_update_index,
                training=training,
            )
            if cross_attention_cache is not None:
                x, cross_attention_cache = x
            x = self._sublayer(
                x, residual, self._cross_attention_layer_norm, training
            )

        residual = x
        if self.normalize_first:
            x = self._feedforward_layer_norm(x)
        x = self._feedforward_intermediate_dense(x)  # (B, T, I)
        x = self._feedforward_output_dense(x)  # (B, T, H)
        x = self._sublayer(x, residual, self._feedforward_layer_norm, training)
        if self_attention_cache is None:
            return x
        if has_cross:
            return x, self_attention_cache, cross_attention_cache
        return x, self_attention_cache

    def get_config(self):
        return {
            **super().get_config(),
            "intermediate_dim": self.intermediate_dim,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "activation": keras.activations.serialize(self.activation),
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "bias_initializer": keras.initializers.serialize(
                self.bias_initializer
            ),
            "normalize_first": self.normalize_first,
            "fused_qkv": self.fused_qkv,
            "decoder_sequence_shape": self._decoder_sequence_shape,
            "encoder_sequence_shape": self._encoder_sequence_shape,
        }
