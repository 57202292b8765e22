import pathlib
import sys

import keras
import numpy as np
import pytest

from refnn.layers import GRU
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from rnn_testing import (  # noqa: E402
    assert_fused_matches_autodiff,
    assert_layer_matches,
    check_dropout,
    copy_pair,
    padded_mask,
)


class GRUTest(TestCase):
    @pytest.mark.large
    def test_layer(self):
        rng = np.random.default_rng(0)
        self.run_layer_test(
            GRU,
            {"units": 3, "return_sequences": True},
            input_data=rng.normal(size=(2, 5, 4)).astype("float32"),
            expected_output_shape=(2, 5, 3),
            variable_input_data=rng.normal(size=(3, 7, 4)).astype("float32"),
        )

    def test_layer_return_state_go_backwards(self):
        rng = np.random.default_rng(1)
        self.run_layer_test(
            GRU,
            {"units": 3, "return_state": True, "go_backwards": True},
            input_data=rng.normal(size=(2, 5, 4)).astype("float32"),
            expected_output_shape=((2, 3), (2, 3)),
            run_jit=False,
            run_saving=False,
            run_export=False,
        )

    def test_matches_keras_all_modes(self):
        # Outputs, final states and gradients (w.r.t. inputs, initial
        # states and weights) equal keras.layers.GRU with copied weights,
        # for every return_sequences / return_state / go_backwards combo,
        # with and without a left/right/fully padded mask.
        rng = np.random.default_rng(2)
        x = rng.normal(size=(4, 6, 3)).astype("float32")
        mask = padded_mask(4, 6)
        # Each flag on and off, for both reset_after conventions.
        flags = [
            (False, False, False),
            (True, True, False),
            (False, True, True),
            (True, False, True),
        ]
        modes = [(*f, after) for f in flags for after in [True, False]]
        for seqs, state, back, after in modes:
            kwargs = dict(
                units=5,
                reset_after=after,
                return_sequences=seqs,
                return_state=state,
                go_backwards=back,
            )
            ours, theirs = copy_pair(GRU, keras.layers.GRU, kwargs, x)
            for m in [None, mask]:
                with self.subTest(**kwargs, mask=m is not None):
                    assert_layer_matches(self, ours, theirs, x, mask=m)

    def test_matches_keras_initial_state_and_options(self):
        rng = np.random.default_rng(3)
        for batch, steps, dim, units in [(2, 9, 4, 3), (5, 3, 1, 8)]:
            x = rng.normal(size=(batch, steps, dim)).astype("float32")
            h0 = rng.normal(size=(batch, units)).astype("float32")
            mask = padded_mask(batch, steps) if batch > 2 else None
            kwargs = dict(
                units=units,
                return_sequences=True,
                return_state=True,
                activation="relu",
                recurrent_activation="hard_sigmoid",
                reset_after=batch == 2,
                bias_initializer="random_normal",
            )
            ours, theirs = copy_pair(GRU, keras.layers.GRU, kwargs, x)
            assert_layer_matches(
                self, ours, theirs, x, initial_state=[h0], mask=mask
            )
        for after in [True, False]:
            kwargs = dict(units=4, use_bias=False, reset_after=after)
            ours, theirs = copy_pair(GRU, keras.layers.GRU, kwargs, x)
            assert_layer_matches(self, ours, theirs, x)

    def test_hand_written_backward_matches_autodiff_with_dropout(self):
        # Recurrent dropout has no Keras twin with the same masks: compare
        # the hand-written BPTT with autodiff through the loop instead.
        rng = np.random.default_rng(6)
        x = rng.normal(size=(4, 7, 3)).astype("float32")
        mask = padded_mask(4, 7)
        for after in [True, False]:
            layer = GRU(
                5,
                reset_after=after,
                return_sequences=True,
                return_state=True,
                dropout=0.3,
                recurrent_dropout=0.4,
                seed=3,
            )
            assert_fused_matches_autodiff(self, layer, x, mask=mask)

    def test_same_weights_layout_as_keras(self):
        x = np.zeros((1, 2, 3), "float32")
        for after, bias_shape in [(True, (2, 12)), (False, (12,))]:
            ours = GRU(4, reset_after=after)
            theirs = keras.layers.GRU(4, reset_after=after)
            ours(x)
            theirs(x)
            self.assertEqual(ours.cell.bias.shape, bias_shape)
            self.assertEqual(
                [w.shape for w in ours.weights],
                [w.shape for w in theirs.weights],
            )
            self.assertEqual(
                [w.path.split("/", 1)[1] for w in ours.weights],
                [w.path.split("/", 1)[1] for w in theirs.weights],
            )

    def test_masking_layer_propagates_mask(self):
        rng = np.random.default_rng(4)
        x = rng.normal(size=(3, 6, 2)).astype("float32")
        x[0, :2] = 0.0
        x[1, 4:] = 0.0

        def model(layer):
            return keras.Sequential(
                [keras.Input((6, 2)), keras.layers.Masking(0.0), layer]
            )

        ours, theirs = model(GRU(4)), model(keras.layers.GRU(4))
        ours.set_weights(theirs.get_weights())
        self.assertAllClose(ours(x), theirs(x), atol=1e-5)

    def test_fully_masked_row_gives_zeros_not_nan(self):
        x = np.ones((2, 4, 3), "float32")
        mask = np.array([[0, 0, 0, 0], [1, 1, 1, 1]], bool)
        out, h = GRU(2, return_state=True)(x, mask=mask)
        self.assertAllClose(out[0], np.zeros(2))
        self.assertAllClose(h[0], np.zeros(2))
        self.assertFalse(np.isnan(out.numpy()).any())

    def test_dropout(self):
        rng = np.random.default_rng(5)
        x = rng.normal(size=(8, 5, 3)).astype("float32")
        check_dropout(self, GRU, {"units": 6}, x)

    def test_exposes_cell_arguments(self):
        layer = GRU(7, dropout=0.25, reset_after=False)
        self.assertEqual(layer.units, 7)
        self.assertEqual(layer.dropout, 0.25)
        self.assertFalse(layer.reset_after)
        config = layer.get_config()
        self.assertEqual(config["units"], 7)
        self.assertEqual(GRU.from_config(config).get_config(), config)

    def test_invalid_args_raise(self):
        for units in [0, -3, 2.5, True]:
            with pytest.raises(ValueError, match=f"units.*got {units}"):
                GRU(units)
        for rate in [-0.1, 1.0, 1.5]:
            with pytest.raises(ValueError, match=f"dropout.*got {rate}"):
                GRU(3, dropout=rate)
            with pytest.raises(ValueError, match="recurrent_dropout"):
                GRU(3, recurrent_dropout=rate)
        with pytest.raises(TypeError, match="stateful must be a bool"):
            GRU(3, stateful=1)
        with pytest.raises(ValueError, match="use_cudnn=True"):
            GRU(3, use_cudnn=True)
        with pytest.raises(ValueError, match="implementation must be 1 or 2"):
            GRU(3, implementation=3)
        with pytest.raises(ValueError, match="initial_state"):
            GRU(3)(np.ones((1, 2, 3)), initial_state=[np.zeros((1, 3))] * 2)
        with pytest.raises(TypeError, match="reset_after"):
            GRU(3, reset_after="yes")
