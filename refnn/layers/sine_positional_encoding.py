"""Fixed sinusoidal positional encoding (Vaswani et al., interleaved)."""

import keras
from keras import ops

_LAYOUTS = ("interleaved", "concatenated")


@keras.saving.register_keras_serializable(package="refnn")
class SinePositionalEncoding(keras.layers.Layer):
    """Sinusoidal positional encoding, added to token embeddings.

    For position `pos` and feature pair `i` (model width `d`):

        PE[pos, 2i]     = sin(pos / 10000^(2i/d))
        PE[pos, 2i + 1] = cos(pos / 10000^(2i/d))

    Each pair of features is a sine/cosine at one frequency; frequencies fall
    geometrically from 1 to 1/10000, so every position gets a unique code and
    relative offsets are linear maps of it. The layer has no weights.

    `layout="concatenated"` returns the layout some tutorials use: all the
    sines first (`PE[pos, i] = sin(...)`, `i < d/2`) then all the cosines.
    It is a fixed permutation of the feature axis of the interleaved layout
    (equivalent for a model, since the next projection can absorb it), but
    not the paper's (nor keras_hub's) layout.

    Args:
        max_wavelength: float, the base of the geometric progression
            (10000 in the paper).
        layout: `"interleaved"` (default, the paper) or `"concatenated"`.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: `(batch_size, sequence_length, hidden_dim)`; only its shape
            is used.
        start_index: int or int tensor, position of the first element (for
            cached decoding).
        positions: optional `(sequence_length,)` or
            `(batch_size, sequence_length)` custom positions.

    Returns:
        The encoding broadcast to the shape of `inputs`.

    Example:

    >>> import numpy as np
    >>> x = np.zeros((2, 10, 16), "float32")
    >>> tuple(SinePositionalEncoding()(x).shape)
    (2, 10, 16)

    References:
        seed 002, "2. Transformer Architecture" → "Key Mechanisms" →
        "Positional Encoding" (adds position information, sine/cosine
        functions, maintains sequence order).
    """

    def __init__(self, max_wavelength=10000, layout="interleaved", **kwargs):
        if not isinstance(max_wavelength, (int, float)) or max_wavelength <= 1:
            raise ValueError(
                f"max_wavelength must be a number > 1, got {max_wavelength}."
            )
        if layout not in _LAYOUTS:
            raise ValueError(f"layout must be one of {_LAYOUTS}, got {layout}.")
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength
        self.layout = layout
        self.supports_masking = True
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        shape = ops.shape(inputs)
        length, d = shape[-2], inputs.shape[-1]
        dtype = self.compute_dtype
        if positions is None:
            positions = ops.arange(length, dtype="int32") + ops.cast(
                start_index, "int32"
            )
        positions = ops.cast(positions, dtype)
        if len(positions.shape) == 1:
            positions = ops.expand_dims(positions, 0)  # (1, T)
        if self.layout == "interleaved":
            pair = ops.arange(d, dtype="int32") // 2  # i for features 2i, 2i+1
        else:
            pair = ops.arange(d, dtype="int32") % ((d + 1) // 2)
        exponent = ops.cast(2 * pair, dtype) / ops.cast(d, dtype)
        inv_freq = ops.power(ops.cast(self.max_wavelength, dtype), -exponent)
        angles = positions[..., None] * inv_freq  # (B or 1, T, d)
        if self.layout == "interleaved":
            use_sin = ops.arange(d) % 2 == 0
        else:
            use_sin = ops.arange(d) < (d + 1) // 2
        encoding = ops.where(use_sin, ops.sin(angles), ops.cos(angles))
        return ops.broadcast_to(encoding, shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "max_wavelength": self.max_wavelength,
            "layout": self.layout,
        }
