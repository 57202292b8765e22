import keras_hub
import numpy as np
import pytest

from refnn.layers import TokenAndPositionEmbedding
from refnn.testing import TestCase


class TokenAndPositionEmbeddingTest(TestCase):
    def setUp(self):
        self.ids = np.array([[3, 1, 4, 1, 5, 0], [9, 2, 6, 0, 0, 0]], "int32")

    def _twins(self, **kwargs):
        ref = keras_hub.layers.TokenAndPositionEmbedding(10, 8, 4, **kwargs)
        ref(self.ids)
        mine = TokenAndPositionEmbedding(10, 8, 4, **kwargs)
        mine(self.ids)
        mine.set_weights(ref.get_weights())
        return mine, ref

    @pytest.mark.large
    def test_layer(self):
        self.run_layer_test(
            TokenAndPositionEmbedding,
            {"vocabulary_size": 10, "sequence_length": 8, "embedding_dim": 4},
            input_data=self.ids,
            expected_output_shape=(2, 6, 4),
            run_jit=False,
            variable_input_data=self.ids[:, :4],
        )

    def test_equals_keras_hub_with_copied_weights(self):
        mine, ref = self._twins(mask_zero=True)
        out = mine(self.ids)
        self.assertAllClose(out, ref(self.ids))
        self.assertAllEqual(out._keras_mask, self.ids != 0)
        self.assertAllClose(
            mine(self.ids, start_index=2), ref(self.ids, start_index=2)
        )
        # Formula: x_t = E_tok[id_t] + E_pos[t].
        tok, pos = mine.get_weights()
        self.assertAllClose(out[0], tok[self.ids[0]] + pos[:6], atol=1e-6)
        # Tied reverse projection = keras_hub's ReversibleEmbedding reverse.
        self.assertAllClose(
            mine.reverse(out), ref.token_embedding(out, reverse=True)
        )

    def test_longer_than_context_window_raises(self):
        layer = TokenAndPositionEmbedding(10, 4, 2)
        with pytest.raises(ValueError, match="length 6 .*sequence_length=4"):
            layer(self.ids)

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="tie_weights must be True or"):
            TokenAndPositionEmbedding(10, 4, 8, tie_weights="no")
        with pytest.raises(ValueError, match="embedding_dim must be a pos"):
            TokenAndPositionEmbedding(10, 4, 0)
        with pytest.raises(ValueError, match="vocabulary_size must be a pos"):
            TokenAndPositionEmbedding(None, 4, 2)
