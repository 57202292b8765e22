import keras
import keras_hub
import numpy as np
import pytest

from refnn.layers import TransformerEncoderLayer
from refnn.testing import TestCase


def fuse_block_weights(weights):
    """keras_hub encoder/decoder weights -> fused-QKV self-attention layout."""
    qk, qb, kk, kb, vk, vb = weights[:6]
    return [np.stack([qk, kk, vk], 1), np.stack([qb, kb, vb], 0)] + weights[6:]


class TransformerEncoderLayerTest(TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(2, 6, 8)).astype("float32")
        self.padding = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)

    @pytest.mark.large
    def test_layer(self):
        self.run_layer_test(
            TransformerEncoderLayer,
            {"intermediate_dim": 16, "num_heads": 2, "fused_qkv": True},
            input_data={"inputs": self.x, "padding_mask": self.padding},
            expected_output_shape=(2, 6, 8),
            variable_input_data={
                "inputs": self.x[:, :4],
                "padding_mask": self.padding[:, :4],
            },
        )

    def test_equals_keras_hub_both_norm_placements(self):
        rng = np.random.default_rng(1)
        attention = rng.random((2, 6, 6)) > 0.3
        attention[:, :, 0] = True
        for normalize_first in (False, True):
            kwargs = dict(
                intermediate_dim=16,
                num_heads=2,
                activation="gelu",
                layer_norm_epsilon=1e-6,
                normalize_first=normalize_first,
            )
            ref = keras_hub.layers.TransformerEncoder(**kwargs)
            ref(self.x)
            mine = TransformerEncoderLayer(**kwargs)
            mine(self.x)
            mine.set_weights(ref.get_weights())
            fused = TransformerEncoderLayer(fused_qkv=True, **kwargs)
            fused(self.x)
            fused.set_weights(fuse_block_weights(ref.get_weights()))
            for masks in (
                {},
                {"padding_mask": self.padding},
                {"attention_mask": attention},
                {"padding_mask": self.padding, "attention_mask": attention},
            ):
                expected = ref(self.x, **masks)
                msg = f"normalize_first={normalize_first}, {sorted(masks)}"
                self.assertAllClose(
                    mine(self.x, **masks), expected, atol=1e-5, msg=msg
                )
                self.assertAllClose(
                    fused(self.x, **masks), expected, atol=1e-5, msg=msg
                )
            _, scores = mine(self.x, return_attention_scores=True)
            _, ref_scores = ref(self.x, return_attention_scores=True)
            self.assertAllClose(scores, ref_scores, atol=1e-6)

    def test_dropout_active_only_in_training(self):
        layer = TransformerEncoderLayer(16, 2, dropout=0.5)
        inference = layer(self.x, training=False)
        self.assertAllClose(layer(self.x), inference)
        train = layer(self.x, training=True)
        self.assertGreater(np.abs(np.asarray(train - inference)).max(), 1e-3)

    def test_gradients_equal_keras_hub(self):
        ref = keras_hub.layers.TransformerEncoder(16, 2)
        ref(self.x)
        mine = TransformerEncoderLayer(16, 2, fused_qkv=True)
        mine(self.x)
        mine.set_weights(fuse_block_weights(ref.get_weights()))
        import tensorflow as tf

        def grads(layer):
            with tf.GradientTape() as tape:
                loss = keras.ops.sum(
                    layer(self.x, padding_mask=self.padding) ** 2
                )
            return tape.gradient(loss, layer.trainable_variables)

        self.assertAllClose(
            grads(mine), fuse_block_weights(grads(ref)), atol=1e-4, rtol=1e-4
        )

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="intermediate_dim must be"):
            TransformerEncoderLayer(0, 2)
        with pytest.raises(ValueError, match="num_heads must be"):
            TransformerEncoderLayer(16, -1)
        with pytest.raises(ValueError, match="divisible by num_heads=3"):
            TransformerEncoderLayer(16, 3)(self.x)
        with pytest.raises(ValueError, match="padding_mask must have shape"):
            TransformerEncoderLayer(16, 2)(self.x, padding_mask=self.x)


class TransformerEncoderLayerSymbolicTest(TestCase):
    def test_symbolic_call_with_attention_scores(self):
        inputs = keras.Input((6, 8))
        out, scores = TransformerEncoderLayer(16, 2)(
            inputs, return_attention_scores=True
        )
        self.assertEqual(tuple(out.shape), (None, 6, 8))
        self.assertEqual(tuple(scores.shape), (None, 2, 6, 6))
        model = keras.Model(inputs, [out, scores])
        y, w = model(np.ones((3, 6, 8), "float32"))
        self.assertAllClose(np.sum(w, -1), np.ones((3, 2, 6)), atol=1e-5)
