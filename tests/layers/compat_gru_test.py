"""Keras's `keras.layers.GRU` behaviours, run against refnn's `GRU`.

Written from Keras's own `keras/src/layers/rnn/gru_test.py` and the
`RNN` / `Bidirectional` / `TimeDistributed` contracts; the expected values
in `test_keras_numbers` are Keras's, copied from its test suite.
"""

import pathlib
import sys

import keras

from refnn.layers import GRU, GRUCell
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import compat_rnn_testing as compat  # noqa: E402


class GRUCompatTest(TestCase):
    def test_stateful(self):
        compat.check_stateful(self, GRU, keras.layers.GRU)

    def test_stateful_training(self):
        compat.check_stateful_training(self, GRU, keras.layers.GRU)

    def test_bidirectional_with_states_and_mask(self):
        compat.check_bidirectional(self, GRU, keras.layers.GRU)

    def test_zero_output_for_mask(self):
        compat.check_zero_output_for_mask(self, GRU, keras.layers.GRU)

    def test_unroll(self):
        compat.check_unroll(self, GRU, keras.layers.GRU)

    def test_cell_in_keras_rnn(self):
        compat.check_cell_in_keras_rnn(self, GRUCell, keras.layers.GRUCell)

    def test_time_distributed(self):
        compat.check_time_distributed(self, GRU, keras.layers.GRU)

    def test_functional_model_and_keras_saving(self):
        compat.check_functional_model_and_saving(self, GRU)

    def test_no_rng_state_without_dropout(self):
        compat.check_no_rng_state_without_dropout(self, GRU)

    def test_use_cudnn_and_implementation(self):
        compat.check_backend_arguments(self, GRU, keras.layers.GRU)
