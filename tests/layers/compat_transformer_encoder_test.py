"""keras-hub's `TransformerEncoder` behaviours, run against refnn's
`TransformerEncoderLayer` (written from keras-hub's
`transformer_encoder_test.py` and its documented arguments)."""

import pathlib
import sys

import keras_hub
import numpy as np

from refnn.layers import TransformerEncoderLayer
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import compat_transformer_blocks_testing as compat  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 5, 8)).astype("float32")
PADDING = np.array([[1, 1, 1, 0, 0], [1] * 5], bool)


class TransformerEncoderCompatTest(TestCase):
    def test_arguments_and_call_surface(self):
        for kwargs in [
            dict(activation="gelu", layer_norm_epsilon=1e-3),
            dict(normalize_first=True, kernel_initializer="he_normal"),
            dict(bias_initializer="ones", dropout=0.2),
        ]:
            ours, theirs = compat.twins(
                TransformerEncoderLayer,
                keras_hub.layers.TransformerEncoder,
                lambda layer: layer(X),
                intermediate_dim=16,
                num_heads=2,
                **kwargs,
            )
            for call_kwargs in [
                {},
                {"padding_mask": PADDING},
                {"attention_mask": np.tril(np.ones((2, 5, 5), bool))},
                {"padding_mask": PADDING, "return_attention_scores": True},
            ]:
                with self.subTest(**kwargs, call=sorted(call_kwargs)):
                    compat.assert_both_paths_equal(
                        self, ours, theirs, lambda m: m(X, **call_kwargs)
                    )

    def test_mixed_precision_functional(self):
        compat.check_mixed_precision_functional(
            self, TransformerEncoderLayer, [X], lambda m, x: m(x)
        )

    def test_keras_saving(self):
        compat.check_keras_saving(
            self, TransformerEncoderLayer, [X], lambda m, x: m(x)
        )
