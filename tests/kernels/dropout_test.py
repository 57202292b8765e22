"""refnn.kernels.dropout.fast_dropout: Keras's dropout with a cheaper mask."""

import keras
import numpy as np

from refnn.kernels.dropout import fast_dropout
from refnn.testing import TestCase


class FastDropoutTest(TestCase):
    def test_drop_share_and_scaling(self):
        x = np.ones((200, 500), "float32")  # 100k elements
        gen = keras.random.SeedGenerator(4)
        for rate in [0.1, 0.25, 0.5, 0.9]:
            y = keras.ops.convert_to_numpy(fast_dropout(x, rate, seed=gen))
            dropped = (y == 0).mean()
            # Binomial std over 1e5 draws is at most 0.0016.
            self.assertAllClose(dropped, rate, atol=0.008)
            kept = y[y != 0]
            self.assertAllClose(kept, np.full_like(kept, 1 / (1 - rate)))

    def test_masks_differ_between_calls_and_seeds_repeat(self):
        x = np.ones((64, 64), "float32")
        gen = keras.random.SeedGenerator(5)
        a = keras.ops.convert_to_numpy(fast_dropout(x, 0.3, seed=gen))
        b = keras.ops.convert_to_numpy(fast_dropout(x, 0.3, seed=gen))
        self.assertGreater((a != b).mean(), 0.2)
        # seed=None: Keras's global generator, a fresh mask at every call.
        e = keras.ops.convert_to_numpy(fast_dropout(x, 0.3, seed=None))
        f = keras.ops.convert_to_numpy(fast_dropout(x, 0.3, seed=None))
        self.assertGreater((e != f).mean(), 0.2)
        c = keras.ops.convert_to_numpy(fast_dropout(x, 0.3, seed=9))
        d = keras.ops.convert_to_numpy(fast_dropout(x, 0.3, seed=9))
        self.assertAllEqual(c, d)
        self.assertAllEqual(fast_dropout(x, 0.0, seed=gen), x)

    def test_odd_sizes_and_gradient_is_the_mask(self):
        import tensorflow as tf

        x = tf.constant(
            np.random.default_rng(1).normal(size=(3, 5, 7)), "float32"
        )
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fast_dropout(x, 0.4, seed=3)
        grad = tape.gradient(y, x)
        keep = (y.numpy() != 0).astype("float32")
        self.assertEqual(y.shape, x.shape)
        self.assertAllClose(grad, keep / 0.6)
        self.assertAllClose(y, x * keep / 0.6)

    def test_compiles_with_xla(self):
        import tensorflow as tf

        gen = keras.random.SeedGenerator(6)
        fn = tf.function(
            lambda t: fast_dropout(t, 0.2, seed=gen), jit_compile=True
        )
        y = fn(tf.ones((100, 100))).numpy()
        self.assertAllClose((y == 0).mean(), 0.2, atol=0.02)
