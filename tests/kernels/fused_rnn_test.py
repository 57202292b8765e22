"""The hand-written recurrence's execution modes: unrolled or looped, one
batch slice or several. Every mode gives Keras's outputs and gradients."""

import itertools
import pathlib
import sys
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from refnn import config
from refnn.kernels import fused_rnn
from refnn.kernels.rnn_cells import LSTMKernel, kernel_for
from refnn.layers import GRU, LSTM, SimpleRNN
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "layers"))
from rnn_testing import (  # noqa: E402
    as_list,
    assert_fused_matches_autodiff,
    assert_layer_matches,
    copy_pair,
    padded_mask,
)

LAYERS = [
    (SimpleRNN, keras.layers.SimpleRNN, {}),
    (LSTM, keras.layers.LSTM, {}),
    (GRU, keras.layers.GRU, {}),
    (GRU, keras.layers.GRU, {"reset_after": False}),
]
# (unroll, chains): looped / unrolled, one slice / uneven slices (7 rows
# cut in 3 gives 2 + 2 + 3).
MODES = [(False, 1), (True, 1), (False, 3), (True, 3)]


class FusedRecurrenceModesTest(TestCase):
    def setUp(self):
        # These test the kernels themselves: on even under REFNN_FAST_PATH=0.
        super().setUp()
        self.enterContext(config.fast_path(True))

    def assert_every_mode_matches(self, kwargs, x, h0, mask, **labels):
        """Each layer of `LAYERS` built with `kwargs`, in every mode of
        `MODES`, with and without `mask`, equals Keras (outputs, states,
        gradients)."""
        for (ours_cls, keras_cls, extra), (unroll, chains) in itertools.product(
            LAYERS, MODES
        ):
            ours, theirs = copy_pair(
                ours_cls, keras_cls, {**kwargs, **extra}, x
            )
            ours.fused_unroll, ours.fused_chains = unroll, chains
            states = [h0] * len(ours.state_size)
            for m in [None, mask]:
                with self.subTest(
                    layer=ours_cls.__name__,
                    **extra,
                    unroll=unroll,
                    chains=chains,
                    mask=m is not None,
                    **labels,
                ):
                    assert_layer_matches(
                        self, ours, theirs, x, initial_state=states, mask=m
                    )

    def test_every_mode_matches_keras(self):
        rng = np.random.default_rng(11)
        x = rng.normal(size=(7, 5, 3)).astype("float32")
        h0 = rng.normal(size=(7, 4)).astype("float32")
        kwargs = dict(
            units=4, return_sequences=True, return_state=True, go_backwards=True
        )
        self.assert_every_mode_matches(kwargs, x, h0, padded_mask(7, 5))

    def test_last_output_only_and_no_bias_match_keras(self):
        # Without `return_sequences` the per-step outputs are never stacked
        # (the output is the final state, zeros for a fully masked row);
        # without a bias the input projection has no row of ones.
        rng = np.random.default_rng(14)
        x = rng.normal(size=(7, 5, 3)).astype("float32")
        h0 = rng.normal(size=(7, 4)).astype("float32")
        for use_bias in [True, False]:
            kwargs = dict(units=4, return_state=True, use_bias=use_bias)
            self.assert_every_mode_matches(
                kwargs, x, h0, padded_mask(7, 5), use_bias=use_bias
            )

    def test_dropout_slices_match_autodiff(self):
        # The recurrent-dropout mask is cut into the same slices as the
        # batch: the hand-written backward still equals autodiff.
        rng = np.random.default_rng(12)
        x = rng.normal(size=(7, 6, 3)).astype("float32")
        for ours_cls, _, extra in LAYERS:
            for unroll in [False, True]:
                layer = ours_cls(
                    5,
                    return_sequences=True,
                    dropout=0.3,
                    recurrent_dropout=0.4,
                    seed=5,
                    **extra,
                )
                layer.fused_unroll, layer.fused_chains = unroll, 3
                with self.subTest(layer=ours_cls.__name__, unroll=unroll):
                    assert_fused_matches_autodiff(
                        self, layer, x, mask=padded_mask(7, 6)
                    )

    def test_dynamic_batch_and_length_in_a_graph(self):
        # Unknown batch size: the slices are cut at run time, including
        # batches smaller than the number of slices (empty slices).
        # Unknown length: the time loop stays a `tf.while_loop`.
        rng = np.random.default_rng(13)
        x = rng.normal(size=(5, 6, 3)).astype("float32")
        ours, theirs = copy_pair(
            LSTM, keras.layers.LSTM, dict(units=4, return_sequences=True), x
        )
        ours.fused_chains = 4
        for spec in [(None, 6, 3), (None, None, 3)]:
            fn = tf.function(
                lambda t: ours(t), input_signature=[tf.TensorSpec(spec)]
            )
            for batch in [5, 2, 1]:
                with self.subTest(spec=spec, batch=batch):
                    self.assertAllClose(
                        fn(x[:batch]), theirs(x[:batch]), atol=1e-5
                    )

    def test_default_modes(self):
        self.assertEqual(fused_rnn.num_chains(8, max_chains=4), 1)
        self.assertEqual(fused_rnn.num_chains(64, max_chains=2), 2)
        self.assertEqual(fused_rnn.num_chains(64, max_chains=16), 4)
        self.assertEqual(fused_rnn.num_chains(None, max_chains=16), 2)
        self.assertEqual(fused_rnn.num_chains(None, max_chains=1), 1)
        self.assertGreaterEqual(fused_rnn.available_cores(), 1)

    def test_xla_context_is_detected(self):
        seen = {}

        def probe(key):
            seen[key] = fused_rnn.in_xla_context()
            return tf.constant(0.0)

        tf.function(lambda: probe("graph"))()
        tf.function(lambda: probe("xla"), jit_compile=True)()
        self.assertEqual(seen, {"graph": False, "xla": True})
        self.assertFalse(fused_rnn.in_xla_context())  # eager

    def test_jit_compiled_training_matches_keras(self):
        # Under XLA the GRU keeps the loop; the LSTM is unrolled from
        # `xla_unroll_min_rows` rows per slice (lowered here to reach it
        # with small shapes). Both are still equal to Keras.
        rng = np.random.default_rng(14)
        x = rng.normal(size=(6, 5, 3)).astype("float32")
        for ours_cls, keras_cls in [
            (GRU, keras.layers.GRU),
            (LSTM, keras.layers.LSTM),
        ]:
            ours, theirs = copy_pair(
                ours_cls, keras_cls, dict(units=4, return_sequences=True), x
            )
            ours.fused_chains = 2
            unrolled = []

            def grads(layer):
                @tf.function(jit_compile=True)
                def fn(t):
                    if layer is ours:
                        unrolled.append(
                            fused_rnn.default_unroll(
                                kernel_for(layer.cell), 5, 3
                            )
                        )
                    with tf.GradientTape() as tape:
                        tape.watch(t)
                        y = tf.reduce_sum(tf.sin(as_list(layer(t))[0]))
                    return tape.gradient(y, [t, *layer.trainable_variables])

                graph = fn.get_concrete_function(tf.constant(x)).graph
                loops = [
                    op
                    for op in graph.get_operations()
                    if op.type in ("While", "StatelessWhile")
                    and "refnn_xla_probe" not in op.name
                ]
                return [g.numpy() for g in fn(tf.constant(x))], loops

            with (
                self.subTest(layer=ours_cls.__name__),
                mock.patch.object(LSTMKernel, "xla_unroll_min_rows", 3),
            ):
                ours_grads, ours_loops = grads(ours)
                self.assertAllClose(ours_grads, grads(theirs)[0], atol=1e-5)
                self.assertEqual(unrolled, [ours_cls is LSTM])
                # Forward and backward loops of 2 slices, or none.
                self.assertEqual(len(ours_loops), 0 if ours_cls is LSTM else 4)

    def test_default_unroll_policy(self):
        lstm, gru = kernel_for(LSTM(4).cell), kernel_for(GRU(4).cell)
        seen = {}

        def probe(key):
            for name, cell in [("lstm", lstm), ("gru", gru)]:
                seen[key, name] = [
                    fused_rnn.default_unroll(cell, steps, rows)
                    for steps, rows in [
                        (64, 32),
                        (64, 16),
                        (None, 32),
                        (129, 64),
                    ]
                ]
            return tf.constant(0.0)

        tf.function(lambda: probe("graph"))()
        tf.function(lambda: probe("xla"), jit_compile=True)()
        # Outside XLA: any static length up to UNROLL_MAX_STEPS (128).
        self.assertEqual(seen["graph", "lstm"], [True, True, False, False])
        self.assertEqual(seen["graph", "gru"], [True, True, False, False])
        # Under XLA: the LSTM from 32 rows per slice, the GRU never.
        self.assertEqual(seen["xla", "lstm"], [True, False, False, False])
        self.assertEqual(seen["xla", "gru"], [False, False, False, False])

    def test_unroll_needs_a_static_length(self):
        layer = SimpleRNN(3, unroll=True)
        layer.build((None, None, 2))
        fn = tf.function(
            lambda t: layer(t), input_signature=[tf.TensorSpec((2, None, 2))]
        )
        with self.assertRaisesRegex(ValueError, "static sequence length"):
            fn.get_concrete_function()

    def test_unroll_true_matches_default(self):
        x = np.random.default_rng(15).normal(size=(3, 4, 2)).astype("float32")
        rolled = LSTM(3, return_sequences=True)
        unrolled = LSTM(3, return_sequences=True, unroll=True)
        rolled(x)
        unrolled(x)
        unrolled.set_weights(rolled.get_weights())
        rolled.fused_unroll = False
        self.assertAllClose(unrolled(x), rolled(x), atol=1e-6)
        self.assertTrue(unrolled.get_config()["unroll"])
