import keras_hub
import numpy as np
import pytest

from refnn.layers import SinePositionalEncoding
from refnn.testing import TestCase


def _paper_formula(length, d, start=0):
    pe = np.zeros((length, d))
    for pos in range(start, start + length):
        for i in range(0, d, 2):
            angle = pos / 10000 ** (i / d)
            pe[pos - start, i] = np.sin(angle)
            if i + 1 < d:
                pe[pos - start, i + 1] = np.cos(angle)
    return pe


class SinePositionalEncodingTest(TestCase):
    def test_layer(self):
        x = np.zeros((2, 6, 8), "float32")
        self.run_layer_test(
            SinePositionalEncoding,
            {"max_wavelength": 10000},
            input_data=x,
            expected_output=np.broadcast_to(_paper_formula(6, 8), x.shape),
            run_training=False,
            run_jit=False,
            run_export=False,
        )

    def test_equals_paper_formula_and_keras_hub(self):
        x = np.zeros((2, 50, 16), "float32")
        out = SinePositionalEncoding()(x)
        self.assertAllClose(out[0], _paper_formula(50, 16), atol=1e-5)
        self.assertAllClose(
            out, keras_hub.layers.SinePositionEncoding()(x), atol=1e-5
        )
        # Worked numbers: PE[1, 0] = sin(1), PE[1, 1] = cos(1), PE[0, odd] = 1.
        self.assertAllClose(out[0, 1, :2], [np.sin(1.0), np.cos(1.0)])
        self.assertAllClose(out[0, 0, 1::2], np.ones(8))

    def test_start_index_and_positions_for_cached_decoding(self):
        x = np.zeros((1, 3, 6), "float32")
        layer = SinePositionalEncoding()
        full = np.asarray(layer(np.zeros((1, 10, 6), "float32")))
        self.assertAllClose(layer(x, start_index=4), full[:, 4:7], atol=1e-6)
        positions = np.array([7, 2, 9])
        self.assertAllClose(
            layer(x, positions=positions), full[:, [7, 2, 9]], atol=1e-6
        )

    def test_concatenated_layout_is_a_permutation(self):
        x = np.zeros((1, 20, 8), "float32")
        inter = np.asarray(SinePositionalEncoding()(x))[0]
        concat = np.asarray(SinePositionalEncoding(layout="concatenated")(x))[0]
        # Concatenated = [sin_0..sin_3, cos_0..cos_3]; interleaved pairs them.
        perm = np.array([0, 2, 4, 6, 1, 3, 5, 7])
        self.assertAllClose(concat, inter[:, perm], atol=1e-6)
        self.assertFalse(np.allclose(concat, inter))

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="layout must be one of"):
            SinePositionalEncoding(layout="sin-cos")
        with pytest.raises(ValueError, match="max_wavelength must be"):
            SinePositionalEncoding(max_wavelength=0)
