"""refnn.kernels.transformer's Dense / Dropout / LayerNormalization equal
Keras's layers (their reference path), and the blocks built from them give
the same outputs and gradients with the fast path on and off."""

import pathlib
import sys

import keras
import numpy as np

from refnn import config
from refnn.kernels import transformer as fast
from refnn.layers import TransformerDecoderLayer, TransformerEncoderLayer
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from fast_path_testing import assert_paths_equal  # noqa: E402

X = np.random.default_rng(1).normal(size=(2, 5, 8)).astype("float32")


class TransformerKernelTest(TestCase):
    def test_sublayers_equal_keras(self):
        for layer in [
            fast.Dense(6, activation="gelu"),
            fast.LayerNormalization(epsilon=1e-5),
        ]:
            layer.build(X.shape)
            gamma = getattr(layer, "gamma", None)
            if gamma is not None:  # not the initial ones / zeros
                gamma.assign(np.linspace(0.5, 1.5, 8).astype("float32"))
                layer.beta.assign(np.linspace(-1, 1, 8).astype("float32"))
            with self.subTest(layer=type(layer).__name__):
                assert_paths_equal(self, layer, lambda m, x: m(x), [X])

    def test_dropout_keeps_keras_semantics(self):
        layer = fast.Dropout(0.4, seed=2)
        x = np.ones((200, 100), "float32")
        with config.fast_path(True):
            y = keras.ops.convert_to_numpy(layer(x, training=True))
            self.assertAllEqual(layer(x, training=False), x)
        self.assertAllClose((y == 0).mean(), 0.4, atol=0.01)
        self.assertAllClose(y[y != 0], np.full((y != 0).sum(), 1 / 0.6))

    def test_blocks_equal_on_both_paths(self):
        for block in [
            TransformerEncoderLayer(16, 2),
            TransformerEncoderLayer(16, 2, normalize_first=True),
            TransformerDecoderLayer(16, 2),
        ]:
            with self.subTest(block=type(block).__name__):
                assert_paths_equal(
                    self,
                    block,
                    lambda m, x: m(x, use_causal_mask=True)
                    if isinstance(m, TransformerEncoderLayer)
                    else m(x),
                    [X],
                )
