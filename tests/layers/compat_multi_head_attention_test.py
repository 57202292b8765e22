"""Keras's `keras.layers.MultiHeadAttention` behaviours, run against
refnn's `MultiHeadAttention` (written from Keras's
`keras/src/layers/attention/multi_head_attention_test.py` and its
documented arguments), on both refnn paths."""

import os
import tempfile

import keras
import numpy as np
import pytest

from refnn import config
from refnn.layers import MultiHeadAttention
from refnn.testing import TestCase

RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 4, 8)).astype("float32")
V = RNG.normal(size=(2, 6, 5)).astype("float32")


def twins(query, value, **kwargs):
    theirs = keras.layers.MultiHeadAttention(**kwargs)
    theirs(query, value)
    ours = MultiHeadAttention(**kwargs)
    ours(query, value)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


class MultiHeadAttentionCompatTest(TestCase):
    def assert_both_paths_equal_keras(self, ours, theirs, *args, **kwargs):
        want = theirs(*args, return_attention_scores=True, **kwargs)
        for enabled in [True, False]:
            with config.fast_path(enabled):
                got = ours(*args, return_attention_scores=True, **kwargs)
            with self.subTest(fast_path=enabled):
                self.assertAllClose(got, want, atol=1e-5, rtol=1e-5)

    def test_constructor_surface_equals_keras(self):
        for kwargs in [
            {"output_shape": 3},
            {"output_shape": (3,)},
            {"value_dim": 3, "use_bias": False},
            {"use_gate": True},
            {"sliding_window": 2},
            {"attention_axes": 1},
            {"attention_axes": (-2,)},
        ]:
            ours, theirs = twins(Q, V, num_heads=2, key_dim=4, **kwargs)
            with self.subTest(**kwargs):
                self.assert_both_paths_equal_keras(ours, theirs, Q, V)

    def test_every_mask_shape_keras_accepts(self):
        ours, theirs = twins(Q, V, num_heads=2, key_dim=4)
        for shape in [(4, 6), (2, 4, 6), (2, 2, 4, 6), (2, 1, 4, 6)]:
            mask = RNG.random(shape) > 0.3
            mask[..., 0] = True  # every query sees a key (Keras averages
            # the values of a fully masked row; refnn outputs zeros)
            with self.subTest(mask_shape=shape):
                self.assert_both_paths_equal_keras(
                    ours, theirs, Q, V, attention_mask=mask
                )

    def test_compute_output_shape_and_errors(self):
        ours = MultiHeadAttention(2, 4, output_shape=3)
        theirs = keras.layers.MultiHeadAttention(2, 4, output_shape=3)
        shapes = ((None, 4, 8), (None, 6, 5))
        self.assertEqual(
            ours.compute_output_shape(*shapes),
            theirs.compute_output_shape(*shapes),
        )
        with self.assertRaisesRegex(ValueError, "same length"):
            MultiHeadAttention(2, 4)(Q, V, V[:, :5])
        with self.assertRaisesRegex(ValueError, "attention_axes"):
            MultiHeadAttention(2, 4, attention_axes=(1, 2))
        with self.assertRaisesRegex(ValueError, "sequence axis"):
            MultiHeadAttention(2, 4)(np.ones((2, 3, 4, 8), "float32"))
        with self.assertRaisesRegex(ValueError, "output_shape"):
            MultiHeadAttention(2, 4, output_shape=(3, 2))
        with self.assertRaisesRegex(ValueError, "flash_attention"):
            MultiHeadAttention(2, 4, flash_attention=True)
        layer = MultiHeadAttention(2, 4)
        layer(Q, V)
        with self.assertRaisesRegex(NotImplementedError, "LoRA"):
            layer.enable_lora(4)
        with self.assertRaisesRegex(NotImplementedError, "quantization"):
            layer.quantize("int8")

    def test_compute_attention_extension_point(self):
        # Keras documents `_compute_attention` for subclasses: refnn calls
        # it with Keras's layouts, on either path.
        class Uniform(MultiHeadAttention):
            def _compute_attention(self, query, key, value, *args, **kw):
                weights = (
                    keras.ops.ones(
                        (
                            query.shape[0],
                            self.num_heads,
                            query.shape[1],
                            key.shape[1],
                        )
                    )
                    / key.shape[1]
                )
                return keras.ops.broadcast_to(
                    keras.ops.mean(value, axis=1, keepdims=True),
                    (value.shape[0], query.shape[1], *value.shape[2:]),
                ), weights

        layer = Uniform(2, 4)
        out, scores = layer(Q, V, return_attention_scores=True)
        self.assertAllClose(scores, np.full((2, 2, 4, 6), 1 / 6))
        self.assertEqual(tuple(out.shape), (2, 4, 8))

    def test_constraints_and_regularizers(self):
        layer = MultiHeadAttention(
            2,
            4,
            kernel_constraint="non_neg",
            bias_constraint="non_neg",
            kernel_regularizer="l2",
        )
        inputs = keras.Input((4, 8))
        model = keras.Model(inputs, layer(inputs, inputs))
        model.compile(keras.optimizers.SGD(1.0), "mse")
        model.fit(Q, -np.ones((2, 4, 8)), epochs=1, verbose=0)
        for w in layer.trainable_weights:
            self.assertGreaterEqual(float(np.min(w.numpy())), 0.0)
        self.assertEqual(len(layer.losses), 4)  # q, k, v, output kernels

    @pytest.mark.large
    def test_mixed_precision_and_saving(self):
        for policy in ["mixed_float16", "mixed_bfloat16"]:
            layer = MultiHeadAttention(2, 4, dtype=policy)
            q = keras.Input((4, 8))
            v = keras.Input((6, 5))
            out, scores = layer(q, v, return_attention_scores=True)
            got, got_scores = layer(Q, V, return_attention_scores=True)
            with self.subTest(policy=policy):
                self.assertEqual(out.dtype, got.dtype)
                self.assertEqual(scores.dtype, got_scores.dtype)
                self.assertEqual(tuple(scores.shape[1:]), (2, 4, 6))
        inputs = [keras.Input((4, 8)), keras.Input((6, 5))]
        model = keras.Model(
            inputs, MultiHeadAttention(2, 4, use_gate=True)(*inputs)
        )
        path = os.path.join(tempfile.mkdtemp(), "mha.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        self.assertAllClose(restored([Q, V]), model([Q, V]), atol=1e-6)
