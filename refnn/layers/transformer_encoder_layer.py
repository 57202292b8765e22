"""Transformer encoder block: self-attention + feed-forward network."""

import keras

from refnn._validation import positive_int, rate
from refnn.kernels import transformer as fast
from refnn.layers.masks import merge_padding_and_attention_mask
from refnn.layers.multi_head_attention import MultiHeadAttention


def _check_block_args(intermediate_dim, num_heads, dropout):
    positive_int("intermediate_dim", intermediate_dim)
    positive_int("num_heads", num_heads)
    rate("dropout", dropout)


def _head_dim(hidden_dim, num_heads):
    if hidden_dim % num_heads:
        raise ValueError(
            f"hidden_dim={hidden_dim} must be divisible by "
            f"num_heads={num_heads}."
        )
    return hidden_dim // num_heads


@keras.saving.register_keras_serializable(package="refnn")
class TransformerEncoderLayer(keras.layers.Layer):
    """One Transformer encoder block.

    Post-norm (`normalize_first=False`, the original paper and BERT):

        h = LayerNorm(x + Dropout(MHA(x, x)))
        y = LayerNorm(h + Dropout(W₂ act(W₁ h + b₁) + b₂))

    Pre-norm (`normalize_first=True`, GPT-2 style):

        h = x + Dropout(MHA(LayerNorm(x)))
        y = h + Dropout(FFN(LayerNorm(h)))

    Same constructor arguments and weight layout as
    `keras_hub.layers.TransformerEncoder`, so its weights can be copied in.
    Padding comes from `padding_mask` or, if absent, from the Keras mask of
    `inputs` (e.g. `TokenAndPositionEmbedding(mask_zero=True)`); padded keys
    get zero attention weight, so padding never changes the outputs at real
    tokens.

    Args:
        intermediate_dim: int, hidden size of the feed-forward network.
        num_heads: int, number of attention heads (must divide the model
            width).
        dropout: float, dropout rate in attention and after each sub-block.
        activation: activation of the feed-forward network.
        layer_norm_epsilon: float, epsilon of the layer norms.
        kernel_initializer: initializer of all kernels.
        bias_initializer: initializer of all biases.
        normalize_first: bool, pre-norm instead of post-norm.
        fused_qkv: bool, fuse the Q/K/V projections into one matmul.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: `(batch_size, sequence_length, hidden_dim)`.
        padding_mask: optional boolean `(batch_size, sequence_length)`.
        attention_mask: optional boolean
            `(batch_size, sequence_length, sequence_length)`.
        training: bool, whether dropout is active.
        return_attention_scores: bool, also return the attention weights
            `(batch_size, num_heads, sequence_length, sequence_length)`.
        use_causal_mask: bool, mask future positions (for decoder-only
            stacks built from encoder blocks).

    Returns:
        `(batch_size, sequence_length, hidden_dim)` (and the scores).

    Example:

    >>> import numpy as np
    >>> block = TransformerEncoderLayer(intermediate_dim=32, num_heads=2)
    >>> tuple(block(np.random.rand(2, 5, 8).astype("float32")).shape)
    (2, 5, 8)

    References:
        seed 002, "2. Transformer Architecture" → "Core Components" →
        "Encoder" (self-attention, feed-forward network, layer
        normalization, residual connections) and "Overview of Transformer
        Model Functionality" → "Transformer Block".
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

    def _common(self):
        return dict(
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
        )

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        self._self_attention_layer = MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=_head_dim(hidden_dim, self.num_heads),
            dropout=self.dropout,
            fused_qkv=self.fused_qkv,
            name="self_attention_layer",
            **self._common(),
        )
        self._self_attention_layer.build(inputs_shape, inputs_shape)
        self._self_attention_layer_norm = fast.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="self_attention_layer_norm",
        )
        self._self_attention_layer_norm.build(inputs_shape)
        self._feedforward_layer_norm = fast.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="feedforward_layer_norm",
        )
        self._feedforward_layer_norm.build(inputs_shape)
        self._feedforward_intermediate_dense = fast.Dense(
            self.intermediate_dim,
            activation=self.activation,
            name="feedforward_intermediate_dense",
            **self._common(),
        )
        self._feedforward_intermediate_dense.build(inputs_shape)
        self._feedforward_output_dense = fast.Dense(
            hidden_dim, name="feedforward_output_dense", **self._common()
        )
        self._feedforward_output_dense.build(
            tuple(inputs_shape[:-1]) + (self.intermediate_dim,)
        )
        self._dropout_layer = fast.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        mask = merge_padding_and_attention_mask(
            inputs, padding_mask, attention_mask
        )
        x = inputs  # (B, T, H)
        residual = x
        if self.normalize_first:
            x = self._self_attention_layer_norm(x)
        x = self._self_attention_layer(
            x,
            None if self.fused_qkv else x,
            attention_mask=mask,
            return_attention_scores=return_attention_scores,
            training=training,
            use_causal_mask=use_causal_mask,
        )
        if return_attention_scores:
            x, scores = x
        x = self._dropout_layer(x, training=training)
        x = x + residual
        if not self.normalize_first:
            x = self._self_attention_layer_norm(x)

        residual = x
        if self.normalize_first:
            x = self._feedforward_layer_norm(x)
        x = self._feedforward_intermediate_dense(x)  # (B, T, I)
        x = self._feedforward_output_dense(x)  # (B, T, H)
        x = self._dropout_layer(x, training=training)
        x = x + residual
        if not self.normalize_first:
            x = self._feedforward_layer_norm(x)
        if return_attention_scores:
            return x, scores
        return x

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def compute_output_spec(
        self, inputs, return_attention_scores=False, **kwargs
    ):
        output = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if not return_attention_scores:
            return output
        batch, length = inputs.shape[0], inputs.shape[1]
        scores_shape = (batch, self.num_heads, length, length)
        return output, keras.KerasTensor(scores_shape, self.compute_dtype)

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
        }
