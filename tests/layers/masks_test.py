import keras_hub
import numpy as np
import pytest
from keras import ops

from refnn.layers import (
    MultiHeadAttention,
    TokenAndPositionEmbedding,
    TransformerDecoderLayer,
    TransformerEncoderLayer,
)
from refnn.layers.masks import (
    causal_mask,
    compute_causal_mask,
    merge_padding_and_attention_mask,
    padding_mask,
)
from refnn.testing import TestCase


class MaskFunctionsTest(TestCase):
    def test_padding_mask(self):
        ids = np.array([[5, 7, 0, 0], [0, 1, 2, 3]])
        self.assertAllEqual(padding_mask(ids), ids != 0)
        self.assertAllEqual(padding_mask(ids, pad_id=3), ids != 3)

    def test_causal_mask_is_lower_triangular(self):
        expected = np.tril(np.ones((4, 4), bool))
        self.assertAllEqual(causal_mask(2, 4), np.stack([expected] * 2))

    def test_compute_causal_mask_equals_keras_hub_with_cache_index(self):
        from keras_hub.src.layers.modeling.transformer_layer_utils import (
            compute_causal_mask as hub_causal,
        )

        for index in (0, 3, 5):
            self.assertAllEqual(
                compute_causal_mask(2, 8, 1, index), hub_causal(2, 8, 1, index)
            )
        self.assertAllEqual(
            compute_causal_mask(1, 6, 3, 2), hub_causal(1, 6, 3, 2)
        )

    def test_merge_equals_keras_hub(self):
        from keras_hub.src.layers.modeling.transformer_layer_utils import (
            merge_padding_and_attention_mask as hub_merge,
        )

        rng = np.random.default_rng(0)
        x = np.zeros((2, 5, 3), "float32")
        pad = rng.random((2, 5)) > 0.3
        att = rng.random((2, 5, 5)) > 0.3
        for p, a in ((pad, None), (None, att), (pad, att), (None, None)):
            mine, ref = (
                merge_padding_and_attention_mask(x, p, a),
                hub_merge(x, p, a),
            )
            if ref is None:
                self.assertIsNone(mine)
            else:
                self.assertAllEqual(mine, ops.cast(ref, "bool"))

    def test_merge_reads_keras_mask(self):
        emb = TokenAndPositionEmbedding(10, 8, 4, mask_zero=True)
        x = emb(np.array([[3, 4, 0]]))
        merged = merge_padding_and_attention_mask(x, None, None)
        self.assertAllEqual(merged, [[[True, True, False]]])

    def test_invalid_args_raise(self):
        x = np.zeros((2, 5, 3), "float32")
        with pytest.raises(ValueError, match="padding_mask must have shape"):
            merge_padding_and_attention_mask(x, np.ones((2, 5, 5)), None)
        with pytest.raises(ValueError, match="attention_mask must have shape"):
            merge_padding_and_attention_mask(x, None, np.ones((2, 5)))
        with pytest.raises(TypeError, match="pad_id must be an int"):
            padding_mask(np.ones((1, 2)), pad_id="0")


def _blocks():
    """(name, fn(x, ids) -> outputs) for every masked sequence layer."""
    enc = TransformerEncoderLayer(16, 2)
    dec = TransformerDecoderLayer(16, 2)
    mha = MultiHeadAttention(2, 4)
    return {
        "encoder": lambda x, m, causal: enc(
            x, padding_mask=m, use_causal_mask=causal
        ),
        "decoder": lambda x, m, causal: dec(
            x, decoder_padding_mask=m, use_causal_mask=causal
        ),
        "mha": lambda x, m, causal: mha(
            x, x, value_mask=m, use_causal_mask=causal
        ),
    }


class MaskPropertyTest(TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(3, 6, 8)).astype("float32")

    def test_fully_padded_row_gives_no_nan(self):
        mask = np.ones((3, 6), bool)
        mask[1] = False
        for name, block in _blocks().items():
            for causal in (False, True):
                out = np.asarray(block(self.x, mask, causal))
                self.assertFalse(np.isnan(out).any(), msg=name)

    def test_fully_padded_row_through_embedding_and_encoder(self):
        emb = TokenAndPositionEmbedding(10, 6, 8, mask_zero=True)
        enc = TransformerEncoderLayer(16, 2)
        ids = np.array([[1, 2, 3, 0, 0, 0], [0, 0, 0, 0, 0, 0]])
        out = np.asarray(enc(emb(ids)))
        self.assertFalse(np.isnan(out).any())

    def test_future_tokens_never_change_the_past(self):
        for name, block in _blocks().items():
            base = np.asarray(block(self.x, None, True))
            for t in range(5):
                changed = self.x.copy()
                changed[:, t + 1 :] += 10.0
                out = np.asarray(block(changed, None, True))
                self.assertAllClose(
                    out[:, : t + 1], base[:, : t + 1], atol=1e-5, msg=name
                )
                self.assertGreater(
                    np.abs(out[:, t + 1] - base[:, t + 1]).max(), 1e-3, msg=name
                )

    def test_padding_never_changes_real_tokens(self):
        # Append 3 padding positions holding garbage: real outputs unchanged.
        rng = np.random.default_rng(1)
        garbage = 50 * rng.normal(size=(3, 3, 8)).astype("float32")
        padded = np.concatenate([self.x, garbage], axis=1)
        mask = np.concatenate(
            [np.ones((3, 6), bool), np.zeros((3, 3), bool)], axis=1
        )
        for name, block in _blocks().items():
            for causal in (False, True):
                base = np.asarray(block(self.x, None, causal))
                out = np.asarray(block(padded, mask, causal))
                self.assertAllClose(out[:, :6], base, atol=1e-5, msg=name)

    def test_mask_zero_embedding_propagates_to_blocks(self):
        # The Keras mask of TokenAndPositionEmbedding(mask_zero=True) acts as
        # the padding mask of the blocks, exactly like an explicit one.
        emb = TokenAndPositionEmbedding(10, 6, 8, mask_zero=True)
        ids = np.array([[1, 2, 3, 4, 0, 0], [5, 6, 0, 0, 0, 0]])
        x = emb(ids)
        self.assertAllEqual(x._keras_mask, ids != 0)
        enc = TransformerEncoderLayer(16, 2)
        y = enc(x)
        self.assertAllEqual(y._keras_mask, ids != 0)
        real = ids != 0
        plain = ops.convert_to_tensor(np.asarray(x))  # no Keras mask
        explicit = enc(plain, padding_mask=real)
        self.assertAllClose(
            np.asarray(y)[real], np.asarray(explicit)[real], atol=1e-5
        )
        # keras_hub's encoder reads the Keras mask the same way. (Keras's
        # MultiHeadAttention deletes the mask of its query tensor, so each
        # call gets a freshly embedded tensor. At padded query rows keras's
        # fused kernel averages all values where refnn gives zero weights,
        # so only real tokens are compared.)
        ref = keras_hub.layers.TransformerEncoder(16, 2)
        ref(emb(ids))
        ref.set_weights(enc.get_weights())
        self.assertAllClose(
            np.asarray(enc(emb(ids)))[real],
            np.asarray(ref(emb(ids)))[real],
            atol=1e-5,
        )
