"""refnn.layers.Dropout: the seed's inverted dropout y = x·mask/p."""

import keras
import numpy as np
import pytest

from refnn.layers import Dropout
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
