"""Keras's `keras.layers.LSTM` behaviours, run against refnn's `LSTM`.

Written from Keras's own `keras/src/layers/rnn/lstm_test.py` and the
`RNN` / `Bidirectional` / `TimeDistributed` contracts; the expected values
in `test_keras_numbers` are Keras's, copied from its test suite.
"""

import pathlib
import sys

import keras
import numpy as np

from refnn.layers import LSTM, LSTMCell
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import compat_rnn_testing as compat  # noqa: E402


class LSTMCompatTest(TestCase):
    def test_keras_numbers(self):
        # keras/src/layers/rnn/lstm_test.py: test_correctness,
        # test_statefulness, test_masking.
        x = np.arange(72).reshape((3, 6, 4)).astype("float32")
        for implementation in [1, 2]:
            compat.check_keras_numbers(
                self,
                LSTM,
                dict(units=3, implementation=implementation),
                x,
                np.array(
                    [
                        [0.6288687, 0.6288687, 0.6288687],
                        [0.86899155, 0.86899155, 0.86899155],
                        [0.9460773, 0.9460773, 0.9460773],
                    ]
                ),
            )
        x = np.arange(24).reshape((2, 3, 4)).astype("float32")
        layer = LSTM(4, stateful=True, **compat.CONSTANT_INIT)
        for _ in range(2):
            layer(x)
            self.assertAllClose(
                layer(x),
                np.array([[0.3124785] * 4, [0.6863672] * 4]),
                atol=1e-5,
            )
            layer.reset_state()
        x = np.arange(24).reshape((2, 4, 3)).astype("float32")
        mask = np.array([[True, True, True, False], [True, True, False, False]])
        compat.check_keras_numbers(
            self,
            LSTM,
            dict(units=2, unroll=True),
            x,
            np.array([[0.11755939, 0.11755939], [0.28556206, 0.28556206]]),
            mask=mask,
        )

    def test_stateful(self):
        compat.check_stateful(self, LSTM, keras.layers.LSTM)

    def test_stateful_training(self):
        compat.check_stateful_training(self, LSTM, keras.layers.LSTM)

    def test_bidirectional_with_states_and_mask(self):
        compat.check_bidirectional(self, LSTM, keras.layers.LSTM)

    def test_zero_output_for_mask(self):
        compat.check_zero_output_for_mask(self, LSTM, keras.layers.LSTM)

    def test_unroll(self):
        compat.check_unroll(self, LSTM, keras.layers.LSTM)

    def test_cell_in_keras_rnn(self):
        compat.check_cell_in_keras_rnn(self, LSTMCell, keras.layers.LSTMCell)

    def test_time_distributed(self):
        compat.check_time_distributed(self, LSTM, keras.layers.LSTM)

    def test_functional_model_and_keras_saving(self):
        compat.check_functional_model_and_saving(self, LSTM)

    def test_no_rng_state_without_dropout(self):
        compat.check_no_rng_state_without_dropout(self, LSTM)

    def test_use_cudnn_and_implementation(self):
        compat.check_backend_arguments(self, LSTM, keras.layers.LSTM)
