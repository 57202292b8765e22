"""refnn.kernels.attention equals MultiHeadAttention's reference path
(`_compute_attention` -> `scaled_dot_product_attention`): outputs, scores,
caches and gradients, for every mask, cache and option."""

import pathlib
import sys

import numpy as np

from refnn.layers import MultiHeadAttention
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from fast_path_testing import assert_paths_equal  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 5, 8)).astype("float32")
Y = RNG.normal(size=(3, 7, 6)).astype("float32")
Q_MASK = np.array([[1, 1, 1, 0, 0], [1] * 5, [0] * 5], bool)
V_MASK = np.array([[1] * 7, [1, 1, 0, 0, 0, 0, 0], [1] * 7], bool)


class AttentionKernelTest(TestCase):
    def test_self_attention_every_mask(self):
        for fused in [False, True]:
            for kwargs in [
                {},
                {"use_causal_mask": True},
                {"query_mask": Q_MASK, "use_causal_mask": True},
                {"attention_mask": np.tril(np.ones((5, 5), bool))},
                {"attention_mask": RNG.random((3, 5, 5)) > 0.3},
            ]:
                layer = MultiHeadAttention(2, 4, fused_qkv=fused)
                with self.subTest(fused=fused, masks=sorted(kwargs)):
                    assert_paths_equal(
                        self,
                        layer,
                        lambda m, x: m(
                            x, return_attention_scores=True, **kwargs
                        ),
                        [X],
                    )

    def test_cross_attention_gate_window_value_dim(self):
        for kwargs in [
            {"value_dim": 3, "output_dim": 5},
            {"use_gate": True},
            {"sliding_window": 2},
            {"use_bias": False},
        ]:
            layer = MultiHeadAttention(2, 4, **kwargs)
            with self.subTest(**kwargs):
                assert_paths_equal(
                    self,
                    layer,
                    lambda m, x, y, qm, vm: m(
                        x,
                        y,
                        query_mask=qm,
                        value_mask=vm,
                        return_attention_scores=True,
                    ),
                    [X, Y, Q_MASK, V_MASK],
                )

    def test_cache_prefill_and_one_step(self):
        for fused in [False, True]:
            layer = MultiHeadAttention(2, 4, fused_qkv=fused)
            layer(X)
            cache = np.zeros((3, 2, 5, 2, 4), "float32")

            def prefill(m, x, c):
                return m(x[:, :3], cache=c, cache_update_index=0)

            def step(m, x, c):
                return m(
                    x[:, 3:4],
                    cache=c,
                    cache_update_index=3,
                    use_causal_mask=True,
                    return_attention_scores=True,
                )

            filled = RNG.normal(size=cache.shape).astype("float32")
            with self.subTest(fused=fused):  # inference only: no gradients
                for fn, c in [(prefill, cache), (step, filled)]:
                    assert_paths_equal(self, layer, fn, [X, c], grads=False)
