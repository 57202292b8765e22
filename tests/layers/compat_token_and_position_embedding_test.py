"""keras-hub's `TokenAndPositionEmbedding` behaviours, run against refnn's
`TokenAndPositionEmbedding` (written from keras-hub's
`token_and_position_embedding.py` and its test, and Keras's
`ReversibleEmbedding`), with keras-hub's weights copied in."""

import pathlib
import sys

import keras
import keras_hub
import numpy as np
import pytest

from refnn.layers import TokenAndPositionEmbedding
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import compat_embedding_testing as compat  # noqa: E402

Twin = keras_hub.layers.TokenAndPositionEmbedding
IDS = np.array([[3, 1, 4, 1, 0], [5, 9, 2, 6, 0]], "int32")
HIDDEN = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")


def embed(ids, layer):
    return layer(ids)


def pair(ids=IDS, *args, **kwargs):
    args = args or (10, 8, 4)
    return compat.copy_pair(
        TokenAndPositionEmbedding, Twin, ids, *args, **kwargs
    )


class TokenAndPositionEmbeddingCompatTest(TestCase):
    def test_constructor_surface(self):
        compat.check_constructor_surface(self, TokenAndPositionEmbedding, Twin)
        theirs = Twin(
            10,
            8,
            4,
            tie_weights=False,
            embeddings_initializer="glorot_normal",
            mask_zero=True,
            name="embed",
        )
        ours = compat.check_twin_config_loads(
            self, TokenAndPositionEmbedding, theirs
        )
        self.assertFalse(ours.tie_weights)
        self.assertTrue(ours.mask_zero)

    def test_arguments_have_keras_hub_meaning(self):
        # Positional arguments mean the same: the 4th is tie_weights.
        for args in [(10, 8, 4, True), (10, 8, 4, False)]:
            init = keras.initializers.RandomUniform(seed=5)
            ours = TokenAndPositionEmbedding(*args, init, True)
            theirs = Twin(*args, init, True)
            out = ours(IDS)
            with self.subTest(tie_weights=args[3]):
                # The same seeded initializer draws the same tables.
                self.assertAllClose(out, theirs(IDS))
                self.assertEqual(
                    [(w.name, tuple(w.shape)) for w in ours.weights],
                    [(w.name, tuple(w.shape)) for w in theirs.weights],
                )
                self.assertAllEqual(out._keras_mask, IDS != 0)
        # NumPy ints (e.g. read off an array's shape) are sizes.
        ours = TokenAndPositionEmbedding(np.int64(10), np.int32(8), np.int64(4))
        self.assertEqual(tuple(ours(IDS).shape), (2, 5, 4))
        config = ours.get_config()
        for key in ["vocabulary_size", "sequence_length", "embedding_dim"]:
            self.assertIs(type(config[key]), int, msg=key)

    def test_refused_arguments(self):
        for args, message in [
            ((None, 8, 4), "vocabulary_size must"),
            ((10, None, 4), "sequence_length must"),
            ((10, 8, None), "embedding_dim must"),
            ((10.0, 8, 4), "vocabulary_size must"),
            ((10, 8.5, 4), "sequence_length must"),  # keras-hub: int() -> 8
            ((10, 8, 0), "embedding_dim must"),
        ]:
            with self.subTest(args=args):
                with pytest.raises(ValueError, match=message):
                    TokenAndPositionEmbedding(*args)
        # keras-hub takes any truthy value; refnn refuses non-bools.
        for name in ["tie_weights", "mask_zero"]:
            with pytest.raises(ValueError, match=f"{name} must be True or"):
                TokenAndPositionEmbedding(10, 8, 4, **{name: "no"})

    def test_call_surface_equals_keras_hub(self):
        for tie_weights in [True, False]:
            ours, theirs = pair(tie_weights=tie_weights, mask_zero=True)
            for name, args, kwargs in [
                ("rank 2", (IDS,), {}),
                ("rank 1, unbatched", (IDS[0],), {}),
                ("rank 3", (IDS[None],), {}),
                ("float ids", (IDS.astype("float32"),), {}),
                ("start_index", (IDS,), {"start_index": 3}),
                ("tensor start_index", (IDS,), {"start_index": np.int32(2)}),
                ("positions (T,)", (IDS,), {"positions": np.arange(5)[::-1]}),
                (
                    "positions (B, T)",
                    (IDS,),
                    {"positions": np.array([[1] * 5, [7] * 5])},
                ),
            ]:
                with self.subTest(name, tie_weights=tie_weights):
                    got = ours(*args, **kwargs)
                    want = theirs(*args, **kwargs)
                    self.assertAllClose(got, want)
                    self.assertAllEqual(got._keras_mask, want._keras_mask)
            # reverse: tied E_tokᵀ or the separate matrix, as keras-hub's
            # token_embedding(x, reverse=True).
            want = theirs.token_embedding(HIDDEN, reverse=True)
            self.assertAllClose(ours.reverse(HIDDEN), want)
            self.assertAllClose(
                ours.token_embedding(HIDDEN, reverse=True), want
            )
        # Formula: x_t = E_tok[id_t] + E_pos[t].
        tok, pos = ours.get_weights()[0], ours.get_weights()[-1]
        self.assertAllClose(ours(IDS)[1], tok[IDS[1]] + pos[:5])
        for shape in [(2, 5), (None, None), (3, 2, 5)]:
            self.assertEqual(
                ours.compute_output_shape(shape),
                theirs.compute_output_shape(shape),
            )

    def test_masks(self):
        ours, theirs = pair(mask_zero=True)
        self.assertTrue(ours.supports_masking)
        self.assertAllEqual(ours(IDS)._keras_mask, theirs(IDS)._keras_mask)
        # keras-hub's compute_mask returns None (the mask is set in call);
        # refnn's returns the padding mask the call attaches.
        self.assertAllEqual(ours.compute_mask(IDS), IDS != 0)
        unmasked, _ = pair()
        self.assertFalse(unmasked.supports_masking)
        self.assertIsNone(unmasked.compute_mask(IDS))
        # The mask reaches a mask-consuming layer in a functional model.
        inputs = keras.Input((None,), dtype="int32")
        pooled = keras.layers.GlobalAveragePooling1D()(ours(inputs))
        model = keras.Model(inputs, pooled)
        want = np.asarray(ours(IDS))[:, :4].mean(axis=1)
        self.assertAllClose(model(IDS), want, atol=1e-6)

    def test_gradients_equal_keras_hub(self):
        ours, theirs = pair(tie_weights=False)
        weights = np.random.default_rng(1).normal(size=(2, 5, 10))
        grads = []
        for layer in [ours, theirs]:
            loss = lambda: keras.ops.sum(  # noqa: E731
                layer.token_embedding(layer(IDS), reverse=True) * weights
            )
            grads.append(compat.gradients(loss, layer.trainable_variables))
        self.assertAllClose(grads[0], grads[1], atol=1e-5)

    def test_bad_inputs_raise(self):
        layer = TokenAndPositionEmbedding(10, 4, 2)
        with pytest.raises(ValueError, match="length 5 .*sequence_length=4"):
            layer(IDS)
        with pytest.raises(ValueError, match="starting at position 1"):
            layer(IDS[:, :4], start_index=1)
        with pytest.raises(ValueError, match="positions must be integers"):
            layer(IDS, positions=np.linspace(0, 3, 5).astype("float32"))

    def test_mixed_precision_output_spec(self):
        theirs = Twin(10, 8, 4)
        reference = theirs(IDS)

        def make(policy):
            layer = TokenAndPositionEmbedding(10, 8, 4, dtype=policy)
            layer.build(IDS.shape)
            layer.set_weights(theirs.get_weights())
            return layer

        compat.check_mixed_precision(self, make, IDS, reference)
        layer = make("mixed_float16")
        self.assertEqual(layer.token_embedding.compute_dtype, "float16")
        self.assertEqual(layer.token_embedding.variable_dtype, "float32")

    def test_functional_and_time_distributed(self):
        ours, theirs = pair(mask_zero=True)
        compat.check_functional_and_time_distributed(
            self, ours, theirs, IDS, embed
        )

    def test_keras_and_savedmodel_round_trips(self):
        layer = TokenAndPositionEmbedding(10, 8, 4, False, mask_zero=True)
        self.run_serialization_test(layer)
        compat.check_saving(self, layer, IDS, embed)
