"""Inverted dropout exactly as the seed writes it."""

import keras
from keras import ops

from refnn import _validation as validation


@keras.saving.register_keras_serializable(package="refnn")
class Dropout(keras.layers.Layer):
    """Randomly turns units off during training, with inverted scaling.

    With keep probability `p = 1 - rate` (the seed's "p: keep probability"):

        training:   y = x ⊙ mask / p,   mask ~ Bernoulli(p) elementwise
        inference:  y = x

    so `E[y] = x` and nothing needs rescaling at inference. `rate` is the
    probability that a unit is turned off (the seed's "if we set this
    parameter to 0.2 ... each node has a 20% probability of being turned
    off"), the same meaning as `keras.layers.Dropout(rate)`; `p` is exposed
    as `keep_probability`. Given the same mask the output equals
    `keras.layers.Dropout`'s (see `apply_mask`).

    Args:
        rate: probability of dropping a unit, in `[0, 1)`.
        noise_shape: optional shape of the mask, broadcast against the
            input (e.g. `(batch_size, 1, features)` to drop the same features
            at every time step); `None` entries take the input's size.
        seed: optional integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of any shape.
        training: boolean; dropout is applied only when `True`.

    Returns:
        A tensor of the same shape as `inputs`.

    Example:

    >>> layer = Dropout(0.2, seed=1)
    >>> x = keras.ops.ones((2, 5))
    >>> bool(keras.ops.all(layer(x, training=False) == x))
    True

    References:
        seeds/002 "Regularization" (Combined Approaches: "Dropout: Randomly
        zero out units (p: keep probability) Training: y = f(Wx) * mask/p,
        Inference: y = f(Wx)") and "Dropout"; seeds/001 "Regularization
        Techniques".
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        rate = validation.rate("rate", rate)
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, int)
        ):
            raise ValueError(f"seed must be an integer or None, got {seed!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    @property
    def keep_probability(self):
        """The seed's `p = 1 - rate`."""
        return 1.0 - self.rate

    def _mask_shape(self, inputs):
        shape = ops.shape(inputs)
        if self.noise_shape is None:
            return shape
        return tuple(
            shape[i] if dim is None else dim
            for i, dim in enumerate(self.noise_shape)
        )

    def sample_mask(self, inputs):
        """Draws the Bernoulli(p) keep mask (1 = keep) for `inputs`."""
        u = keras.random.uniform(
            self._mask_shape(inputs), seed=self.seed_generator
        )
        return ops.cast(u < self.keep_probability, inputs.dtype)

    def apply_mask(self, inputs, mask):
        """The seed's training output `y = x ⊙ mask / p` for a given mask."""
        mask = ops.cast(mask, inputs.dtype)
        return inputs * mask / ops.cast(self.keep_probability, inputs.dtype)

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        return self.apply_mask(inputs, self.sample_mask(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": self.noise_shape,
            "seed": self.seed,
        }
