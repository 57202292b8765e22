import keras
import numpy as np
import pytest

from refnn.layers import LSTMCell
from refnn.testing import TestCase


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class LSTMCellTest(TestCase):
    def test_one_step_matches_gate_equations(self):
        # i, f, g, o gates in Keras's order, written out in numpy.
        rng = np.random.default_rng(0)
        cell = LSTMCell(3, bias_initializer="random_normal")
        x = rng.normal(size=(2, 4)).astype("float32")
        h0 = rng.normal(size=(2, 3)).astype("float32")
        c0 = rng.normal(size=(2, 3)).astype("float32")
        h, (h_state, c) = cell(x, [h0, c0])
        w, u, b = [
            v.numpy() for v in (cell.kernel, cell.recurrent_kernel, cell.bias)
        ]
        z = x @ w + h0 @ u + b
        i, f, g, o = np.split(z, 4, axis=-1)
        c_ref = sigmoid(f) * c0 + sigmoid(i) * np.tanh(g)
        h_ref = sigmoid(o) * np.tanh(c_ref)
        self.assertAllClose(c, c_ref, atol=1e-5)
        self.assertAllClose(h, h_ref, atol=1e-5)
        self.assertAllClose(h_state, h_ref, atol=1e-5)

    def test_in_keras_rnn_matches_keras_cell(self):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(3, 6, 4)).astype("float32")
        mask = np.ones((3, 6), bool)
        mask[0, :2] = False
        mask[1, 4:] = False
        ours = keras.layers.RNN(
            LSTMCell(5), return_sequences=True, return_state=True
        )
        theirs = keras.layers.RNN(
            keras.layers.LSTMCell(5), return_sequences=True, return_state=True
        )
        theirs(x)
        ours(x)
        ours.set_weights(theirs.get_weights())
        self.assertAllClose(ours(x, mask=mask), theirs(x, mask=mask), atol=1e-5)

    def test_get_initial_state_and_sizes(self):
        cell = LSTMCell(4)
        self.assertEqual(cell.state_size, [4, 4])
        self.assertEqual(cell.output_size, 4)
        states = cell.get_initial_state(batch_size=2)
        self.assertEqual([tuple(s.shape) for s in states], [(2, 4), (2, 4)])
        self.assertAllClose(states, [np.zeros((2, 4))] * 2)

    def test_serialization_and_saving(self):
        cell = LSTMCell(3, recurrent_activation="hard_sigmoid", dropout=0.1)
        revived = self.run_serialization_test(cell)
        self.assertEqual(revived.units, 3)
        inputs = keras.Input((5, 2))
        model = keras.Model(inputs, keras.layers.RNN(cell)(inputs))
        x = np.random.default_rng(2).normal(size=(2, 5, 2)).astype("float32")
        self.run_model_saving_test(model, x)

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="units must be a positive"):
            LSTMCell(0)
        with pytest.raises(ValueError, match="dropout.*got 1.0"):
            LSTMCell(2, dropout=1.0)
        with pytest.raises(ValueError, match="recurrent_dropout.*got -0.5"):
            LSTMCell(2, recurrent_dropout=-0.5)
        with pytest.raises(TypeError, match="unit_forget_bias"):
            LSTMCell(2, unit_forget_bias="no")
