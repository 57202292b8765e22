import keras
import numpy as np
import pytest

from refnn.layers.attention import masked_softmax, scaled_dot_product_attention
from refnn.testing import TestCase


def _numpy_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(-1, keepdims=True)
    return w @ v, w


class ScaledDotProductAttentionTest(TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.q = rng.normal(size=(2, 3, 4, 8)).astype("float32")
        self.k = rng.normal(size=(2, 3, 6, 8)).astype("float32")
        self.v = rng.normal(size=(2, 3, 6, 5)).astype("float32")

    def test_formula_softmax_qk_over_sqrt_dk_times_v(self):
        out, w = scaled_dot_product_attention(self.q, self.k, self.v)
        ref_out, ref_w = _numpy_attention(self.q, self.k, self.v)
        self.assertAllClose(w, ref_w, atol=1e-6)
        self.assertAllClose(out, ref_out, atol=1e-5)
        self.assertAllClose(np.sum(w, -1), np.ones((2, 3, 4)), atol=1e-6)

    def test_one_key_is_copied(self):
        # With a single unmasked key every query copies that key's value.
        mask = np.zeros((4, 6), bool)
        mask[:, 2] = True
        out, w = scaled_dot_product_attention(self.q, self.k, self.v, mask)
        self.assertAllClose(out, np.repeat(self.v[:, :, 2:3], 4, axis=2))
        # 1 within float32 rounding (some CPUs' softmax gives 1 - 6e-8).
        self.assertAllClose(w[..., 2], np.ones((2, 3, 4), "float32"))

    def test_mask_matches_formula_and_zeroes_masked_weights(self):
        rng = np.random.default_rng(1)
        mask = rng.random((2, 1, 4, 6)) > 0.4
        mask[..., 0] = True  # every row keeps a key
        out, w = scaled_dot_product_attention(self.q, self.k, self.v, mask)
        ref_out, ref_w = _numpy_attention(self.q, self.k, self.v, mask)
        self.assertAllClose(out, ref_out, atol=1e-5)
        self.assertAllClose(w, ref_w, atol=1e-6)
        self.assertTrue(
            np.all(np.asarray(w)[np.broadcast_to(~mask, w.shape)] == 0.0)
        )

    def test_fully_masked_row_gives_zeros_not_nan(self):
        mask = np.ones((4, 6), bool)
        mask[1] = False  # query 1 may attend to nothing
        out, w = scaled_dot_product_attention(self.q, self.k, self.v, mask)
        out, w = np.asarray(out), np.asarray(w)
        self.assertFalse(np.isnan(out).any() or np.isnan(w).any())
        self.assertAllEqual(w[:, :, 1], np.zeros((2, 3, 6), "float32"))
        self.assertAllEqual(out[:, :, 1], np.zeros((2, 3, 5), "float32"))

    def test_equals_keras_dot_product_attention(self):
        # keras.ops.dot_product_attention takes (B, T, N, H).
        rng = np.random.default_rng(2)
        mask = rng.random((2, 3, 4, 6)) > 0.3
        mask[..., 0] = True
        ref = keras.ops.dot_product_attention(
            *(np.swapaxes(t, 1, 2) for t in (self.q, self.k, self.k)),
            mask=mask,
        )
        out, _ = scaled_dot_product_attention(self.q, self.k, self.k, mask)
        self.assertAllClose(np.swapaxes(np.asarray(out), 1, 2), ref, atol=1e-5)

    def test_dropout_only_in_training(self):
        out, _ = scaled_dot_product_attention(
            self.q, self.k, self.v, dropout=0.5, training=False
        )
        ref, _ = scaled_dot_product_attention(self.q, self.k, self.v)
        self.assertAllClose(out, ref)
        out, _ = scaled_dot_product_attention(
            self.q, self.k, self.v, dropout=0.5, training=True, seed=1
        )
        self.assertGreater(np.abs(np.asarray(out) - np.asarray(ref)).max(), 0)

    def test_masked_softmax_accepts_int_mask(self):
        scores = np.array([[1.0, 2.0, 3.0]], "float32")
        w = masked_softmax(scores, np.array([[1, 0, 1]]))
        e = np.exp([1.0, 3.0])
        self.assertAllClose(w, [[e[0] / e.sum(), 0.0, e[1] / e.sum()]])

    def test_invalid_dropout_raises(self):
        with pytest.raises(ValueError, match="dropout must be a number in"):
            scaled_dot_product_attention(self.q, self.k, self.v, dropout=1.5)
