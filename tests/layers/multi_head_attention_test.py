import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_hub.layers import CachedMultiHeadAttention

from refnn.layers import MultiHeadAttention
from refnn.testing import TestCase


def fuse_weights(separate):
    """Separate q/k/v weights (keras layout) -> fused (dim, 3, N, H)."""
    qk, qb, kk, kb, vk, vb, ok, ob = separate
    return [
        np.stack([qk, kk, vk], 1),
        np.stack([qb, kb, vb], 0),
        ok,
        ob,
    ]


class MultiHeadAttentionTest(TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.q = rng.normal(size=(2, 5, 8)).astype("float32")
        self.v = rng.normal(size=(2, 7, 6)).astype("float32")
        self.k = rng.normal(size=(2, 7, 4)).astype("float32")

    def _twins(self, query, value, key=None, **kwargs):
        ref = keras.layers.MultiHeadAttention(**kwargs)
        ref(query, value, key)
        mine = MultiHeadAttention(**kwargs)
        mine(query, value, key)
        mine.set_weights(ref.get_weights())
        return mine, ref

    @pytest.mark.large
    def test_layer_self_attention(self):
        self.run_layer_test(
            MultiHeadAttention,
            {"num_heads": 2, "key_dim": 4},
            input_data={"query": self.q, "value": self.q},
            expected_output_shape=(2, 5, 8),
            variable_input_data={
                "query": self.q[:, :3],
                "value": self.q[:, :3],
            },
        )

    @pytest.mark.large
    def test_layer_fused_causal_cross_shapes(self):
        self.run_layer_test(
            MultiHeadAttention,
            {"num_heads": 2, "key_dim": 3, "output_dim": 5, "fused_qkv": True},
            input_data={"query": self.q},
            expected_output_shape=(2, 5, 5),
            run_jit=False,
            run_export=False,
        )
        self.run_layer_test(
            MultiHeadAttention,
            {"num_heads": 3, "key_dim": 2, "value_dim": 4, "dropout": 0.1},
            input_data={"query": self.q, "value": self.v, "key": self.k},
            expected_output_shape=(2, 5, 8),
            run_jit=False,
            run_export=False,
        )

    def test_equals_keras_self_and_cross_attention(self):
        rng = np.random.default_rng(1)
        padding = rng.random((2, 7)) > 0.3
        padding[:, 0] = True
        attention = rng.random((2, 5, 7)) > 0.2
        cases = [
            dict(query=self.q, value=self.q),
            dict(query=self.q, value=self.v),
            dict(query=self.q, value=self.v, key=self.k),
            dict(query=self.q, value=self.v, value_mask=padding),
            dict(query=self.q, value=self.v, attention_mask=attention),
            dict(query=self.q, value=self.v, use_causal_mask=True),
            dict(
                query=self.q,
                value=self.v,
                key=self.k,
                key_mask=padding,
                attention_mask=attention,
                use_causal_mask=True,
            ),
        ]
        for case in cases:
            mine, ref = self._twins(
                case["query"],
                case["value"],
                case.get("key"),
                num_heads=2,
                key_dim=3,
                value_dim=4,
            )
            out, scores = mine(**case, return_attention_scores=True)
            ref_out, ref_scores = ref(**case, return_attention_scores=True)
            msg = str(sorted(case))
            self.assertEqual(tuple(scores.shape), tuple(ref_scores.shape))
            self.assertAllClose(scores, ref_scores, atol=1e-5, msg=msg)
            self.assertAllClose(out, ref_out, atol=1e-5, msg=msg)
            # Keras's fused kernel (no scores) agrees wherever a query row
            # can attend to something.
            self.assertAllClose(mine(**case), ref(**case), atol=1e-5, msg=msg)

    def test_query_keras_mask_zeroes_padded_rows_like_keras(self):
        emb = keras.layers.Embedding(10, 8, mask_zero=True)
        ids = np.array([[1, 2, 3, 0], [4, 0, 0, 0]])
        mine, ref = self._twins(self.q, self.q, num_heads=2, key_dim=4)
        x = emb(ids)
        out, w = mine(x, x, return_attention_scores=True)
        x = emb(ids)
        ref_out, ref_w = ref(x, x, return_attention_scores=True)
        self.assertAllClose(w, ref_w, atol=1e-6)
        self.assertAllClose(out, ref_out, atol=1e-5)
        self.assertAllEqual(np.asarray(w)[1, :, 1:], np.zeros((2, 3, 4)))

    def test_fused_equals_separate(self):
        sep = MultiHeadAttention(2, 4)
        sep(self.q, self.q)
        fused = MultiHeadAttention(2, 4, fused_qkv=True)
        fused(self.q)
        fused.set_weights(fuse_weights(sep.get_weights()))
        mask = np.tril(np.ones((5, 5), bool))[None]
        for kwargs in ({}, {"attention_mask": mask}, {"use_causal_mask": True}):
            out, w = fused(self.q, return_attention_scores=True, **kwargs)
            ref, ref_w = sep(
                self.q, self.q, return_attention_scores=True, **kwargs
            )
            self.assertAllClose(out, ref, atol=1e-5)
            self.assertAllClose(w, ref_w, atol=1e-6)

    def _cached_decode(self, layer, x, step):
        batch, length = x.shape[:2]
        cache = np.zeros((batch, 2, length, 2, 4), "float32")
        outputs = []
        for i in range(length):
            out, cache = step(x[:, i : i + 1], cache, i)
            outputs.append(out)
        return np.concatenate([np.asarray(o) for o in outputs], axis=1)

    def test_cached_decoding_equals_full_causal(self):
        for fused in (False, True):
            layer = MultiHeadAttention(2, 4, fused_qkv=fused)
            # A fused layer takes value=None (self-attention).
            full = layer(self.q, None, use_causal_mask=True)

            def step(x, cache, i):
                return layer(
                    x,
                    None if fused else x,
                    cache=cache,
                    cache_update_index=i,
                    use_causal_mask=True,
                )

            self.assertAllClose(
                self._cached_decode(layer, self.q, step), full, atol=1e-5
            )

            # The same inside XLA, with the index as a tensor.
            @tf.function(jit_compile=True)
            def jit_step(x, cache, i):
                return step(x, cache, i)

            def call_jit(x, cache, i):
                return jit_step(x, cache, tf.constant(i))

            self.assertAllClose(
                self._cached_decode(layer, self.q, call_jit), full, atol=1e-5
            )

    def test_cache_equals_keras_hub_cached_attention(self):
        ref = CachedMultiHeadAttention(num_heads=2, key_dim=4)
        ref(self.q, self.q)
        mine = MultiHeadAttention(2, 4)
        mine(self.q, self.q)
        mine.set_weights(ref.get_weights())
        cache = np.random.default_rng(3).normal(size=(2, 2, 5, 2, 4))
        cache = cache.astype("float32")
        mask = np.tril(np.ones((5, 5), bool))[None, 2:3]  # step 2
        x = self.q[:, 2:3]
        out, new_cache = mine(
            x, x, attention_mask=mask, cache=cache, cache_update_index=2
        )
        ref_out, ref_cache = ref(
            x, x, attention_mask=mask, cache=cache, cache_update_index=2
        )
        self.assertAllClose(out, ref_out, atol=1e-5)
        self.assertAllClose(new_cache, ref_cache, atol=1e-6)
        # Static cache: the cached keys/values are used as they are.
        out = mine(x, x, attention_mask=mask, cache=ref_cache)
        self.assertAllClose(out[0], ref_out, atol=1e-5)

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="num_heads must be a positive"):
            MultiHeadAttention(0, 4)
        with pytest.raises(ValueError, match="key_dim must be a positive"):
            MultiHeadAttention(2, 2.5)
        with pytest.raises(ValueError, match="dropout must be a number in"):
            MultiHeadAttention(2, 4, dropout=1.0)
        with pytest.raises(ValueError, match="fused_qkv=True needs"):
            MultiHeadAttention(2, 4, value_dim=3, fused_qkv=True)
        fused = MultiHeadAttention(2, 4, fused_qkv=True)
        with pytest.raises(ValueError, match="self-attention only"):
            fused(self.q, self.v)
        with pytest.raises(ValueError, match="cache_update_index must be"):
            MultiHeadAttention(2, 4)(self.q, self.q, cache_update_index=0)
        with pytest.raises(ValueError, match="query must have shape"):
            MultiHeadAttention(2, 4)(self.q[0], self.q[0])
