import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from refnn.layers import TransformerDecoderLayer
from refnn.testing import TestCase


def fuse_block_weights(weights):
    qk, qb, kk, kb, vk, vb = weights[:6]
    return [np.stack([qk, kk, vk], 1), np.stack([qb, kb, vb], 0)] + weights[6:]


class TransformerDecoderLayerTest(TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(2, 6, 8)).astype("float32")
        self.enc = rng.normal(size=(2, 4, 8)).astype("float32")
        self.dec_pad = np.array([[1] * 6, [1, 1, 1, 1, 0, 0]], bool)
        self.enc_pad = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)

    def _twins(self, cross, **kwargs):
        args = (self.x, self.enc) if cross else (self.x,)
        ref = keras_hub.layers.TransformerDecoder(16, 2, **kwargs)
        ref(*args)
        mine = TransformerDecoderLayer(16, 2, **kwargs)
        mine(*args)
        mine.set_weights(ref.get_weights())
        return mine, ref

    @pytest.mark.large
    def test_layer(self):
        self.run_layer_test(
            TransformerDecoderLayer,
            {"intermediate_dim": 16, "num_heads": 2},
            input_data={
                "decoder_sequence": self.x,
                "encoder_sequence": self.enc,
                "decoder_padding_mask": self.dec_pad,
                "encoder_padding_mask": self.enc_pad,
            },
            expected_output_shape=(2, 6, 8),
            run_jit=False,
            variable_input_data={
                "decoder_sequence": self.x[:, :3],
                "encoder_sequence": self.enc[:, :3],
                "decoder_padding_mask": self.dec_pad[:, :3],
                "encoder_padding_mask": self.enc_pad[:, :3],
            },
        )

    def test_equals_keras_hub(self):
        for normalize_first in (False, True):
            for cross in (False, True):
                mine, ref = self._twins(cross, normalize_first=normalize_first)
                cases = [{}, {"decoder_padding_mask": self.dec_pad}]
                cases.append({"use_causal_mask": False})
                if cross:
                    cases.append(
                        {
                            "decoder_padding_mask": self.dec_pad,
                            "encoder_padding_mask": self.enc_pad,
                        }
                    )
                args = (self.x, self.enc) if cross else (self.x,)
                for masks in cases:
                    msg = f"norm_first={normalize_first} cross={cross} {masks}"
                    self.assertAllClose(
                        mine(*args, **masks),
                        ref(*args, **masks),
                        atol=1e-5,
                        msg=msg,
                    )

    def _decode(self, layer, step, cross):
        """Feeds x one token at a time through `step`, returns the outputs."""
        cache = np.zeros((2, 2, 6, 2, 4), "float32")
        cross_cache = np.zeros((2, 2, 4, 2, 4), "float32") if cross else None
        outputs = []
        for i in range(6):
            out = step(self.x[:, i : i + 1], cache, cross_cache, i)
            outputs.append(np.asarray(out[0]))
            cache = out[1]
            if cross:
                cross_cache = out[2]
        return np.concatenate(outputs, axis=1)

    def test_cached_decoding_equals_full_recompute(self):
        for cross in (False, True):
            for fused in (False, True):
                layer = TransformerDecoderLayer(
                    16, 2, normalize_first=True, fused_qkv=fused
                )
                args = (self.x, self.enc) if cross else (self.x,)
                full = layer(*args)

                def step(x, cache, cross_cache, i):
                    kwargs = dict(
                        self_attention_cache=cache,
                        self_attention_cache_update_index=i,
                    )
                    if cross:
                        # Fill the cross cache at step 0, then reuse it.
                        kwargs["cross_attention_cache"] = cross_cache
                        kwargs["cross_attention_cache_update_index"] = (
                            0 if i == 0 else None
                        )
                        return layer(x, self.enc, **kwargs)
                    return layer(x, **kwargs)

                msg = f"cross={cross} fused={fused}"
                self.assertAllClose(
                    self._decode(layer, step, cross), full, atol=1e-5, msg=msg
                )
                if cross:
                    continue

                @tf.function(jit_compile=True)
                def jit_step(x, cache, i):
                    return layer(
                        x,
                        self_attention_cache=cache,
                        self_attention_cache_update_index=i,
                    )

                self.assertAllClose(
                    self._decode(
                        layer,
                        lambda x, c, cc, i: jit_step(x, c, tf.constant(i)),
                        False,
                    ),
                    full,
                    atol=1e-5,
                    msg=msg + " jit",
                )

    def test_cached_step_equals_keras_hub(self):
        mine, ref = self._twins(cross=False)
        # Compare a whole cached step sequence against keras_hub's.
        ref_cache = np.zeros((2, 2, 6, 2, 4), "float32")
        mine_cache = ref_cache
        for i in range(6):
            x = self.x[:, i : i + 1]
            out, mine_cache = mine(
                x,
                self_attention_cache=mine_cache,
                self_attention_cache_update_index=i,
            )
            ref_out, ref_cache = ref(
                x,
                self_attention_cache=ref_cache,
                self_attention_cache_update_index=i,
            )
            self.assertAllClose(out, ref_out, atol=1e-5)
            self.assertAllClose(mine_cache, ref_cache, atol=1e-5)

    def test_config_rebuilds_cross_attention(self):
        layer = TransformerDecoderLayer(16, 2)
        layer(self.x, self.enc)
        revived = TransformerDecoderLayer.from_config(layer.get_config())
        self.assertTrue(revived.built)
        revived.set_weights(layer.get_weights())
        self.assertAllClose(revived(self.x, self.enc), layer(self.x, self.enc))

    def test_invalid_args_raise(self):
        layer = TransformerDecoderLayer(16, 2)
        layer(self.x)
        with pytest.raises(ValueError, match="built without cross-attention"):
            layer(self.x, self.enc)
        cross = TransformerDecoderLayer(16, 2)
        cross(self.x, self.enc)
        with pytest.raises(ValueError, match="built with cross-attention"):
            cross(self.x)
        with pytest.raises(ValueError, match="must both be given"):
            cross(
                self.x,
                self.enc,
                self_attention_cache=np.zeros((2, 2, 6, 2, 4), "float32"),
                self_attention_cache_update_index=0,
            )
        with pytest.raises(ValueError, match="dropout must be a number in"):
            TransformerDecoderLayer(16, 2, dropout=-0.1)
