import keras
import numpy as np
import pytest

from refnn.layers import SimpleRNNCell
from refnn.testing import TestCase


class SimpleRNNCellTest(TestCase):
    def test_one_step_matches_formula(self):
        # h_t = tanh(x_t W + h_{t-1} U + b)
        rng = np.random.default_rng(0)
        cell = SimpleRNNCell(3, bias_initializer="random_normal")
        x = rng.normal(size=(2, 4)).astype("float32")
        h0 = rng.normal(size=(2, 3)).astype("float32")
        h, (h_state,) = cell(x, [h0])
        w, u, b = [v.numpy() for v in cell.weights]
        expected = np.tanh(x @ w + h0 @ u + b)
        self.assertAllClose(h, expected, atol=1e-5)
        self.assertAllClose(h_state, expected, atol=1e-5)

    def test_in_keras_rnn_matches_keras_cell(self):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(3, 6, 4)).astype("float32")
        mask = np.ones((3, 6), bool)
        mask[0, :2] = False
        mask[1, 4:] = False
        ours = keras.layers.RNN(
            SimpleRNNCell(5), return_sequences=True, go_backwards=True
        )
        theirs = keras.layers.RNN(
            keras.layers.SimpleRNNCell(5),
            return_sequences=True,
            go_backwards=True,
        )
        theirs(x)
        ours(x)
        ours.set_weights(theirs.get_weights())
        self.assertAllClose(ours(x, mask=mask), theirs(x, mask=mask), atol=1e-5)

    def test_get_initial_state_and_sizes(self):
        cell = SimpleRNNCell(4)
        self.assertEqual(cell.state_size, 4)
        self.assertEqual(cell.output_size, 4)
        self.assertAllClose(cell.get_initial_state(2), np.zeros((2, 4)))

    def test_serialization_and_saving(self):
        cell = SimpleRNNCell(3, activation="relu", use_bias=False)
        revived = self.run_serialization_test(cell)
        self.assertFalse(revived.use_bias)
        inputs = keras.Input((5, 2))
        model = keras.Model(inputs, keras.layers.RNN(cell)(inputs))
        x = np.random.default_rng(2).normal(size=(2, 5, 2)).astype("float32")
        self.run_model_saving_test(model, x)

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="units must be a positive"):
            SimpleRNNCell("3")
        with pytest.raises(ValueError, match="dropout.*got 1.2"):
            SimpleRNNCell(3, recurrent_dropout=1.2)
        with pytest.raises(TypeError, match="use_bias"):
            SimpleRNNCell(3, use_bias=None)
