"""refnn.layers.Dropout: the seed's inverted dropout y = x·mask/p."""

import keras
import numpy as np
import pytest

from refnn.layers import Dropout
from refnn.layers.dropout import fast_dropout
from refnn.testing import TestCase


class DropoutTest(TestCase):
    @pytest.mark.large
    def test_layer_basics(self):
        x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype("float32")
        # Inference (the default, and what export/saving check) is identity.
        self.run_layer_test(
            Dropout,
            {"rate": 0.3, "seed": 1},
            x,
            expected_output_shape=(3, 4, 5),
            expected_output=x,
            run_training=False,
            variable_input_data=x[:, :2],
        )

    def test_statistics_match_seed_and_keras(self):
        x = np.full((400, 500), 2.0, "float32")
        rate = 0.2
        ours = keras.ops.convert_to_numpy(
            Dropout(rate, seed=3)(x, training=True)
        )
        theirs = keras.ops.convert_to_numpy(
            keras.layers.Dropout(rate, seed=3)(x, training=True)
        )
        p = 1.0 - rate
        for y in (ours, theirs):
            self.assertAllClose(np.mean(y == 0.0), rate, atol=0.005)
            self.assertAllClose(y.mean(), 2.0, atol=0.01)  # E[y] = x
            # Kept units are scaled by exactly 1/p.
            self.assertAllClose(np.unique(y[y != 0]), [2.0 / p], atol=1e-6)

    def test_equals_keras_given_the_same_mask(self):
        x = np.random.default_rng(1).normal(size=(8, 16)).astype("float32")
        layer = Dropout(0.4)
        y_keras = keras.ops.convert_to_numpy(
            keras.layers.Dropout(0.4, seed=7)(x, training=True)
        )
        mask = (y_keras != 0.0).astype("float32")
        self.assertAllClose(layer.apply_mask(x, mask), y_keras, atol=1e-6)
        self.assertAllClose(layer.apply_mask(x, mask), x * mask / 0.6)

    def test_inference_identity_and_masks_differ_between_calls(self):
        x = np.ones((4, 50), "float32")
        layer = Dropout(0.5, seed=2)
        self.assertAllClose(layer(x), x)
        self.assertAllClose(layer(x, training=False), x)
        a = keras.ops.convert_to_numpy(layer(x, training=True))
        b = keras.ops.convert_to_numpy(layer(x, training=True))
        self.assertFalse(np.array_equal(a, b))
        self.assertAllClose(Dropout(0.0)(x, training=True), x)

    def test_noise_shape_broadcasts_mask(self):
        x = np.ones((2, 6, 10), "float32")
        y = keras.ops.convert_to_numpy(
            Dropout(0.5, noise_shape=(None, 1, 10), seed=4)(x, training=True)
        )
        for t in range(1, 6):  # same features dropped at every time step
            np.testing.assert_array_equal(y[:, t], y[:, 0])
        self.assertEqual(Dropout(0.3).keep_probability, 0.7)

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="rate"):
            Dropout(1.0)
        with pytest.raises(ValueError, match="rate"):
            Dropout(-0.1)
        with pytest.raises(ValueError, match="seed"):
            Dropout(0.1, seed=1.5)


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
