"""keras-hub's `SinePositionEncoding` behaviours, run against refnn's
`SinePositionalEncoding` (written from keras-hub's
`sine_position_encoding.py` and `sine_position_encoding_test.py`)."""

import pathlib
import sys

import keras
import keras_hub
import numpy as np
import pytest

from refnn.layers import SinePositionalEncoding
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import compat_embedding_testing as compat  # noqa: E402

Twin = keras_hub.layers.SinePositionEncoding
X = np.random.default_rng(0).normal(size=(2, 6, 8)).astype("float32")


def add_encoding(x, layer):
    return x + layer(x)


class SinePositionEncodingCompatTest(TestCase):
    def test_constructor_surface(self):
        compat.check_constructor_surface(self, SinePositionalEncoding, Twin)
        ours = compat.check_twin_config_loads(
            self, SinePositionalEncoding, Twin(max_wavelength=500, name="pe")
        )
        self.assertAllClose(ours(X), Twin(max_wavelength=500)(X))

    def test_max_wavelength_has_keras_hub_meaning(self):
        for max_wavelength in [10000, 100, 1, 0.5, np.float32(50.0)]:
            with self.subTest(max_wavelength=max_wavelength):
                self.assertAllClose(
                    SinePositionalEncoding(max_wavelength=max_wavelength)(X),
                    Twin(max_wavelength=max_wavelength)(X),
                )
        config = SinePositionalEncoding(np.float32(50.0)).get_config()
        self.assertIs(type(config["max_wavelength"]), float)

    def test_refused_arguments(self):
        # keras-hub fails later (0: ZeroDivisionError in call; -1: NaN for
        # the odd features; "a": TypeError); refnn refuses at construction.
        for max_wavelength in [0, -1, "a", None, True]:
            with self.subTest(max_wavelength=max_wavelength):
                with pytest.raises(ValueError, match="max_wavelength must"):
                    SinePositionalEncoding(max_wavelength=max_wavelength)
        # An argument neither layer has (keras-hub's PositionEmbedding
        # docstring's `seq_axis`): the base Layer refuses it in both.
        for cls in [SinePositionalEncoding, Twin]:
            with pytest.raises(ValueError, match="seq_axis"):
                cls(seq_axis=1)

    def test_call_surface_equals_keras_hub(self):
        ours, theirs = SinePositionalEncoding(), Twin()
        x4 = np.stack([X, X], axis=1)  # (B, 2, T, H)
        odd = X[..., :5]  # an odd hidden_dim
        for name, args, kwargs in [
            ("rank 3", (X,), {}),
            ("rank 4", (x4,), {}),
            ("odd hidden_dim", (odd,), {}),
            ("start_index", (X,), {"start_index": 5}),
            ("tensor start_index", (X,), {"start_index": np.int32(3)}),
            ("positions (T,)", (X,), {"positions": np.arange(6)[::-1]}),
            (
                "positions (B, T)",
                (X,),
                {"positions": np.array([[1] * 6, [2] * 6])},
            ),
            ("float positions", (X,), {"positions": np.linspace(0, 3, 6)}),
            (
                "positions win over start_index",
                (X,),
                {"positions": np.arange(6) + 7, "start_index": 2},
            ),
        ]:
            with self.subTest(name):
                got = ours(*args, **kwargs)
                self.assertAllClose(got, theirs(*args, **kwargs))
        for shape in [(2, 6, 8), (None, None, 8), (3, 2, 6, 4)]:
            self.assertEqual(
                ours.compute_output_shape(shape),
                theirs.compute_output_shape(shape),
            )

    def test_masks(self):
        # keras-hub's layer drops an input mask (with a warning); refnn's
        # passes it through, and compute_mask agrees with keras-hub's.
        mask = np.array([[1, 1, 1, 1, 0, 0], [1] * 6], bool)
        ours, theirs = SinePositionalEncoding(), Twin()
        self.assertAllEqual(ours.compute_mask(X, mask), mask)
        self.assertAllEqual(theirs.compute_mask(X, mask), mask)
        masked = keras.layers.Masking()(X * mask[..., None])
        out = ours(masked)
        self.assertAllEqual(out._keras_mask, mask)
        self.assertAllClose(out, theirs(X))

    def test_rank_two_input_and_errors(self):
        # keras-hub's broadcast fails on one unbatched `(T, H)` sequence;
        # refnn encodes it as one row of the batched result.
        layer = SinePositionalEncoding()
        self.assertAllClose(layer(X[0]), Twin()(X)[0])
        with pytest.raises(ValueError, match="rank 2 or more, got shape"):
            layer(np.zeros((8,), "float32"))

    def test_float32_angles_under_mixed_precision(self):
        # Position 3001 is not a float16 number; refnn keeps it exact.
        x = np.zeros((1, 1, 8), "float32")
        want = Twin()(x, start_index=3001)
        got = SinePositionalEncoding(dtype="mixed_float16")(x, start_index=3001)
        self.assertAllClose(keras.ops.cast(got, "float32"), want, atol=1e-3)

    def test_mixed_precision_output_spec(self):
        compat.check_mixed_precision(
            self,
            lambda policy: SinePositionalEncoding(dtype=policy),
            X,
            Twin()(X),
        )

    def test_functional_and_time_distributed(self):
        compat.check_functional_and_time_distributed(
            self, SinePositionalEncoding(), Twin(), X, add_encoding
        )

    def test_keras_and_savedmodel_round_trips(self):
        layer = SinePositionalEncoding(
            max_wavelength=300, layout="concatenated"
        )
        self.run_serialization_test(layer)
        compat.check_saving(self, layer, X, add_encoding)
