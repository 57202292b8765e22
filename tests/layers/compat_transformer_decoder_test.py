"""keras-hub's `TransformerDecoder` behaviours, run against refnn's
`TransformerDecoderLayer` (written from keras-hub's
`transformer_decoder_test.py` and its documented arguments)."""

import pathlib
import sys

import keras
import keras_hub
import numpy as np

from refnn.layers import TransformerDecoderLayer
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import compat_transformer_blocks_testing as compat  # noqa: E402

RNG = np.random.default_rng(1)
X = RNG.normal(size=(2, 5, 8)).astype("float32")
E = RNG.normal(size=(2, 7, 8)).astype("float32")
PADDING = np.array([[1, 1, 1, 0, 0], [1] * 5], bool)
E_PADDING = np.array([[1] * 4 + [0] * 3, [1] * 7], bool)


class TransformerDecoderCompatTest(TestCase):
    def test_arguments_and_call_surface(self):
        for kwargs in [
            dict(activation="gelu", layer_norm_epsilon=1e-3),
            dict(normalize_first=True, kernel_initializer="he_normal"),
        ]:
            ours, theirs = compat.twins(
                TransformerDecoderLayer,
                keras_hub.layers.TransformerDecoder,
                lambda layer: layer(X, E),
                intermediate_dim=16,
                num_heads=2,
                **kwargs,
            )
            for call_kwargs in [
                {},
                {"decoder_padding_mask": PADDING},
                {"encoder_padding_mask": E_PADDING},
                {"use_causal_mask": False},
                {
                    "decoder_attention_mask": np.tril(np.ones((2, 5, 5), bool)),
                    "encoder_attention_mask": np.ones((2, 5, 7), bool),
                },
            ]:
                with self.subTest(**kwargs, call=sorted(call_kwargs)):
                    compat.assert_both_paths_equal(
                        self, ours, theirs, lambda m: m(X, E, **call_kwargs)
                    )

    def test_mixed_precision_functional_and_cache_spec(self):
        compat.check_mixed_precision_functional(
            self, TransformerDecoderLayer, [X, E], lambda m, x, e: m(x, e)
        )
        layer = TransformerDecoderLayer(16, 2, dtype="mixed_float16")
        cache = np.zeros((2, 2, 5, 2, 4), "float32")
        out, new_cache = layer(
            X[:, :1],
            self_attention_cache=cache,
            self_attention_cache_update_index=0,
        )
        for tensor in [out, new_cache]:
            dtype = keras.backend.standardize_dtype(tensor.dtype)
            self.assertEqual(dtype, "float16")

    def test_keras_saving(self):
        compat.check_keras_saving(
            self, TransformerDecoderLayer, [X, E], lambda m, x, e: m(x, e)
        )
