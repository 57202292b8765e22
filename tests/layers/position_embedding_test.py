import keras_hub
import numpy as np
import pytest

from refnn.layers import PositionEmbedding
from refnn.testing import TestCase


class PositionEmbeddingTest(TestCase):
    def test_layer(self):
        self.run_layer_test(
            PositionEmbedding,
            {"sequence_length": 8},
            input_data=np.zeros((2, 6, 4), "float32"),
            expected_output_shape=(2, 6, 4),
            run_training=False,  # output does not depend on the input
            run_jit=False,
            run_export=False,  # exported inside TokenAndPositionEmbedding
        )

    def test_equals_keras_hub_with_copied_weights(self):
        x = np.zeros((2, 5, 4), "float32")
        ref = keras_hub.layers.PositionEmbedding(sequence_length=8)
        ref(x)
        mine = PositionEmbedding(sequence_length=8)
        mine(x)
        mine.set_weights(ref.get_weights())
        self.assertAllClose(mine(x), ref(x))
        self.assertAllClose(mine(x, start_index=3), ref(x, start_index=3))
        positions = np.array([[7, 0, 1, 2, 3], [1, 1, 1, 1, 1]])
        self.assertAllClose(
            mine(x, positions=positions), ref(x, positions=positions)
        )
        # The output is the first rows of the table, for every batch row.
        table = mine.get_weights()[0]
        self.assertAllClose(mine(x)[1], table[:5])

    def test_longer_than_context_window_raises(self):
        layer = PositionEmbedding(sequence_length=4)
        with pytest.raises(ValueError, match="length 6 .* sequence_length=4"):
            layer(np.zeros((1, 6, 2), "float32"))
        with pytest.raises(ValueError, match="starting at position 2"):
            layer(np.zeros((1, 3, 2), "float32"), start_index=2)

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="sequence_length must be a pos"):
            PositionEmbedding(sequence_length=None)
