import keras
import numpy as np
import pytest

from refnn.layers import GRUCell
from refnn.testing import TestCase


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_gru_step(x, h, w, u, b, reset_after):
    """The GRU update written out (Keras's z, r, h gate order)."""
    wz, wr, wh = np.split(w, 3, axis=-1)
    uz, ur, uh = np.split(u, 3, axis=-1)
    if reset_after:
        (bz, br, bh), (rz, rr, rh) = np.split(b[0], 3), np.split(b[1], 3)
        z = sigmoid(x @ wz + bz + h @ uz + rz)
        r = sigmoid(x @ wr + br + h @ ur + rr)
        candidate = np.tanh(x @ wh + bh + r * (h @ uh + rh))
    else:
        bz, br, bh = np.split(b, 3)
        z = sigmoid(x @ wz + bz + h @ uz)
        r = sigmoid(x @ wr + br + h @ ur)
        candidate = np.tanh(x @ wh + bh + (r * h) @ uh)
    return z * h + (1 - z) * candidate


class GRUCellTest(TestCase):
    def test_one_step_matches_gate_equations(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(2, 4)).astype("float32")
        h0 = rng.normal(size=(2, 3)).astype("float32")
        for reset_after in [True, False]:
            cell = GRUCell(
                3, reset_after=reset_after, bias_initializer="random_normal"
            )
            h, (h_state,) = cell(x, [h0])
            w, u, b = [v.numpy() for v in cell.weights]
            expected = numpy_gru_step(x, h0, w, u, b, reset_after)
            self.assertAllClose(h, expected, atol=1e-5)
            self.assertAllClose(h_state, expected, atol=1e-5)

    def test_in_keras_rnn_matches_keras_cell(self):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(3, 6, 4)).astype("float32")
        mask = np.ones((3, 6), bool)
        mask[0, :2] = False
        mask[1, 4:] = False
        for reset_after in [True, False]:
            ours = keras.layers.RNN(
                GRUCell(5, reset_after=reset_after),
                return_sequences=True,
                return_state=True,
            )
            theirs = keras.layers.RNN(
                keras.layers.GRUCell(5, reset_after=reset_after),
                return_sequences=True,
                return_state=True,
            )
            theirs(x)
            ours(x)
            ours.set_weights(theirs.get_weights())
            self.assertAllClose(
                ours(x, mask=mask), theirs(x, mask=mask), atol=1e-5
            )

    def test_get_initial_state_and_sizes(self):
        cell = GRUCell(4)
        self.assertEqual(cell.state_size, 4)
        self.assertEqual(cell.output_size, 4)
        state = cell.get_initial_state(batch_size=2)
        self.assertAllClose(state, np.zeros((2, 4)))

    def test_serialization_and_saving(self):
        cell = GRUCell(3, reset_after=False, recurrent_dropout=0.2)
        revived = self.run_serialization_test(cell)
        self.assertFalse(revived.reset_after)
        inputs = keras.Input((5, 2))
        model = keras.Model(inputs, keras.layers.RNN(cell)(inputs))
        x = np.random.default_rng(2).normal(size=(2, 5, 2)).astype("float32")
        self.run_model_saving_test(model, x)

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="units must be a positive"):
            GRUCell(-1)
        with pytest.raises(ValueError, match="dropout.*got 2"):
            GRUCell(2, dropout=2)
        with pytest.raises(TypeError, match="reset_after"):
            GRUCell(2, reset_after=1)
