"""keras-hub's `PositionEmbedding` behaviours, run against refnn's
`PositionEmbedding` (written from keras-hub's `position_embedding.py` and
`position_embedding_test.py`), with keras-hub's weights copied in."""

import pathlib
import sys

import keras
import keras_hub
import numpy as np
import pytest

from refnn.layers import PositionEmbedding
from refnn.testing import TestCase

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import compat_embedding_testing as compat  # noqa: E402

Twin = keras_hub.layers.PositionEmbedding
X = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")


def add_positions(x, layer):
    return x + layer(x)


def pair(x=X, **kwargs):
    return compat.copy_pair(
        PositionEmbedding, Twin, x, **{"sequence_length": 8, **kwargs}
    )


class PositionEmbeddingCompatTest(TestCase):
    def test_constructor_surface(self):
        compat.check_constructor_surface(self, PositionEmbedding, Twin)
        theirs = Twin(8, initializer="zeros", name="pos", trainable=False)
        ours = compat.check_twin_config_loads(self, PositionEmbedding, theirs)
        ours(X)
        self.assertEqual(ours.trainable_weights, [])
        self.assertAllClose(ours(X), np.zeros_like(X))

    def test_arguments_have_keras_hub_meaning(self):
        # The same seeded initializer draws the same table in both.
        init = keras.initializers.GlorotUniform(seed=7)
        ours, theirs = PositionEmbedding(8, init), Twin(8, init)
        self.assertAllClose(ours(X), theirs(X))
        # NumPy ints (e.g. read off an array's shape) are sizes in both.
        ours = PositionEmbedding(sequence_length=np.int64(8))
        ours(X)
        self.assertEqual(ours.get_config()["sequence_length"], 8)
        self.assertEqual(tuple(ours.weights[0].shape), (8, 4))
        self.assertEqual(ours.weights[0].name, theirs.weights[0].name)

    def test_refused_arguments(self):
        # keras-hub raises for None; it truncates 5.5 to 5 and parses "8"
        # with int(): refnn refuses both rather than guess.
        for value in [None, 5.5, "8", 0, -1, True]:
            with self.subTest(sequence_length=value):
                with pytest.raises(ValueError, match="sequence_length must"):
                    PositionEmbedding(sequence_length=value)
        # `seq_axis` is in keras-hub's docstring, not its constructor: the
        # base Layer refuses it in both.
        for cls in [PositionEmbedding, Twin]:
            with pytest.raises(ValueError, match="seq_axis"):
                cls(8, seq_axis=1)

    def test_call_surface_equals_keras_hub(self):
        ours, theirs = pair()
        x4 = np.stack([X, X], axis=1)  # (B, 2, T, H)
        for name, args, kwargs in [
            ("rank 3", (X,), {}),
            ("rank 2, unbatched", (X[0],), {}),
            ("rank 4", (x4,), {}),
            ("shorter than the window", (X[:, :2],), {}),
            ("start_index", (X,), {"start_index": 3}),
            ("tensor start_index", (X,), {"start_index": np.int32(2)}),
            ("positions (T,)", (X,), {"positions": np.array([7, 0, 1, 2, 3])}),
            (
                "positions (B, T)",
                (X,),
                {"positions": np.array([[1] * 5, [7] * 5])},
            ),
            (
                "positions win over start_index",
                (X,),
                {"positions": np.arange(5) + 3, "start_index": 1},
            ),
        ]:
            with self.subTest(name):
                got = ours(*args, **kwargs)
                self.assertAllClose(got, theirs(*args, **kwargs))
        # The output is the rows of the table, for every batch row.
        self.assertAllClose(
            ours(X, start_index=2)[1], ours.get_weights()[0][2:7]
        )
        for shape in [(2, 5, 4), (None, None, 4), (3, 2, 5, 4)]:
            self.assertEqual(
                ours.compute_output_shape(shape),
                theirs.compute_output_shape(shape),
            )

    def test_masks(self):
        # keras-hub's layer drops an input mask (with a warning); refnn's
        # passes it through, and compute_mask agrees with keras-hub's.
        ours, theirs = pair()
        mask = np.array([[1, 1, 1, 0, 0], [1] * 5], bool)
        self.assertAllEqual(ours.compute_mask(X, mask), mask)
        self.assertAllEqual(theirs.compute_mask(X, mask), mask)
        out = ours(keras.layers.Masking()(X * mask[..., None]))
        self.assertAllEqual(out._keras_mask, mask)
        self.assertAllClose(out, theirs(X))

    def test_gradients_equal_keras_hub(self):
        ours, theirs = pair()
        weights = np.random.default_rng(1).normal(size=X.shape)
        grads = []
        for layer in [ours, theirs]:
            loss = lambda: keras.ops.sum(layer(X, start_index=2) * weights)  # noqa: E731
            grads.append(compat.gradients(loss, layer.trainable_variables))
        self.assertAllClose(grads[0], grads[1])
        self.assertAllClose(grads[0][0][2:7], weights.sum(axis=0))

    def test_bad_inputs_raise(self):
        # keras-hub fails inside the backend's slice (TensorFlow) or
        # clamps the start silently (JAX); refnn names both lengths.
        layer = PositionEmbedding(sequence_length=4)
        with pytest.raises(ValueError, match="length 5 .*sequence_length=4"):
            layer(X)
        with pytest.raises(ValueError, match="starting at position 2"):
            layer(X[:, :3], start_index=2)
        with pytest.raises(ValueError, match="positions must be integers"):
            layer(X, positions=np.linspace(0, 3, 5).astype("float32"))
        with pytest.raises(ValueError, match="rank 2 or more, got shape"):
            layer(np.zeros((4,), "float32"))

    def test_mixed_precision_output_spec(self):
        theirs = Twin(8)
        reference = theirs(X)

        def make(policy):
            layer = PositionEmbedding(8, dtype=policy)
            layer.build(X.shape)
            layer.set_weights(theirs.get_weights())
            return layer

        compat.check_mixed_precision(self, make, X, reference)

    def test_functional_and_time_distributed(self):
        ours, theirs = pair()
        compat.check_functional_and_time_distributed(
            self, ours, theirs, X, add_positions
        )

    def test_keras_and_savedmodel_round_trips(self):
        layer = PositionEmbedding(8, initializer="random_normal")
        self.run_serialization_test(layer)
        compat.check_saving(self, layer, X, add_positions)
