"""Fixed sinusoidal positional encoding (Vaswani et al., interleaved)."""

import numbers

import keras
from keras import ops

from refnn.layers.position_embedding import check_rank

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

    A drop-in for `keras_hub.layers.SinePositionEncoding` (same arguments,
    same call, same numbers). Two additions: the input's Keras mask is
    passed through, and the angles are computed in at least float32 (then
    cast to the compute dtype), so under a mixed-precision policy positions
    past 2048 stay exact.

    Args:
        max_wavelength: positive number, the base of the geometric
            progression (10000 in the paper).
        layout: `"interleaved"` (default, the paper) or `"concatenated"`.
        **kwargs: base layer keyword arguments.

    Call arguments:
        inputs: `(batch_size, sequence_length, hidden_dim)` (or any rank
            >= 2 ending in `(sequence_length, hidden_dim)`); only its shape
            is used.
        start_index: int or int tensor, position of the first element (for
            cached decoding).
        positions: optional `(sequence_length,)` or
            `(batch_size, sequence_length)` custom positions (int or float);
            when given, `start_index` is ignored.

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
        if (
            isinstance(max_wavelength, bool)
            or not isinstance(max_wavelength, numbers.Real)
            or not max_wavelength > 0
        ):
            raise ValueError(
                f"max_wavelength must be a positive number, got "
                f"{max_wavelength!r}."
            )
        if layout not in _LAYOUTS:
            raise ValueError(f"layout must be one of {_LAYOUTS}, got {layout}.")
        super().__init__(**kwargs)
        # A plain Python number, so the config stays JSON.
        if isinstance(max_wavelength, numbers.Integral):
            self.max_wavelength = int(max_wavelength)
        else:
            self.max_wavelength = float(max_wavelength)
        self.layout = layout
        self.supports_masking = True
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        check_rank(inputs, self.name)
        shape = ops.shape(inputs)
        length, d = shape[-2], shape[-1]
        # Angles in float32 at least (float16 is not exact past position
        # 2048), cast to the compute dtype at the end.
        dtype = keras.backend.result_type(self.compute_dtype, "float32")
        if positions is None:
            positions = ops.arange(length, dtype="int32") + ops.cast(
                start_index, "int32"
            )
        positions = ops.cast(positions, dtype)  # (T,) or (B, T)
        if self.layout == "interleaved":
            pair = ops.arange(d, dtype="int32") // 2  # i for features 2i, 2i+1
        else:
            pair = ops.arange(d, dtype="int32") % ((d + 1) // 2)
        exponent = ops.cast(2 * pair, dtype) / ops.cast(d, dtype)
        inv_freq = ops.power(ops.cast(self.max_wavelength, dtype), -exponent)
        angles = positions[..., None] * inv_freq  # (T, d) or (B, T, d)
        if self.layout == "interleaved":
            use_sin = ops.arange(d) % 2 == 0
        else:
            use_sin = ops.arange(d) < (d + 1) // 2
        encoding = ops.where(use_sin, ops.sin(angles), ops.cos(angles))
        return ops.broadcast_to(ops.cast(encoding, self.compute_dtype), shape)

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
