"""Keras's `keras.layers.SimpleRNN` behaviours, run against refnn's `SimpleRNN`.

Written from Keras's own `keras/src/layers/rnn/simple_rnn_test.py` and the
`RNN` / `Bidirectional` / `TimeDistributed` contracts; the expected values
in `test_keras_numbers` are Keras's, copied from its test suite.
"""

import pathlib
import sys

import keras

from refnn.layers import SimpleRNN, SimpleRNNCell
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import compat_rnn_testing as compat  # noqa: E402


class SimpleRNNCompatTest(TestCase):
    def test_stateful(self):
        compat.check_stateful(self, SimpleRNN, keras.layers.SimpleRNN)

    def test_stateful_training(self):
        compat.check_stateful_training(self, SimpleRNN, keras.layers.SimpleRNN)

    def test_bidirectional_with_states_and_mask(self):
        compat.check_bidirectional(self, SimpleRNN, keras.layers.SimpleRNN)

    def test_zero_output_for_mask(self):
        compat.check_zero_output_for_mask(
            self, SimpleRNN, keras.layers.SimpleRNN
        )

    def test_unroll(self):
        compat.check_unroll(self, SimpleRNN, keras.layers.SimpleRNN)

    def test_cell_in_keras_rnn(self):
        compat.check_cell_in_keras_rnn(
            self, SimpleRNNCell, keras.layers.SimpleRNNCell
        )

    def test_time_distributed(self):
        compat.check_time_distributed(self, SimpleRNN, keras.layers.SimpleRNN)

    def test_functional_model_and_keras_saving(self):
        compat.check_functional_model_and_saving(self, SimpleRNN)

    def test_no_rng_state_without_dropout(self):
        compat.check_no_rng_state_without_dropout(self, SimpleRNN)
