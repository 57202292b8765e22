import keras
import numpy as np
import pytest

from refnn.models import Perceptron
from refnn.testing import TestCase

# Three points; with α = 0.5 and w = 0, b = 0 the seed rule gives, online:
#   p1 = (1, 1),  y = 0: score 0 → ŷ = 1, wrong → w = (−.5, −.5), b = −.5
#   p2 = (2, −1), y = 1: score −1 → ŷ = 0, wrong → w = (.5, −1), b = 0
#   p3 = (−1, 2), y = 0: score −2.5 → ŷ = 0, right → no change
X3 = np.array([[1.0, 1.0], [2.0, -1.0], [-1.0, 2.0]], "float32")
Y3 = np.array([0.0, 1.0, 0.0], "float32")


def _blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    pos = rng.normal((2.0, 2.0), 0.6, size=(n // 2, 2))
    neg = rng.normal((-2.0, -1.0), 0.6, size=(n // 2, 2))
    x = np.concatenate([pos, neg]).astype("float32")
    y = np.r_[np.ones(n // 2), np.zeros(n // 2)].astype("float32")
    order = rng.permutation(n)
    return x[order], y[order]


class PerceptronTest(TestCase):
    def test_online_updates_follow_seed_rule(self):
        model = Perceptron(learning_rate=0.5)
        history = model.fit(
            X3, Y3, batch_size=1, epochs=1, shuffle=False, verbose=0
        )
        self.assertAllClose(model.kernel, [0.5, -1.0])
        self.assertAllClose(model.bias, 0.0)
        self.assertEqual(history.history["mistakes"], [2.0])
        self.assertAllClose(history.history["accuracy"], [1 / 3])
        # A second epoch: p1 score .5 − 1 = −.5 → right; p2 2 + 1 = 3 → right;
        # p3 −.5 − 2 = −2.5 → right. Nothing changes.
        history = model.fit(
            X3, Y3, batch_size=1, epochs=1, shuffle=False, verbose=0
        )
        self.assertEqual(history.history["mistakes"], [0.0])
        self.assertAllClose(model.kernel, [0.5, -1.0])

    def test_batched_update_is_sum_from_batch_start(self):
        # All scores are 0 → ŷ = 1; p1 and p3 are wrong (y − ŷ = −1):
        # Δw = α(−p1 − p3) = .5 (0, −3), Δb = α(−2).
        model = Perceptron(learning_rate=0.5)
        model.fit(X3, Y3, batch_size=3, epochs=1, shuffle=False, verbose=0)
        self.assertAllClose(model.kernel, [0.0, -1.5])
        self.assertAllClose(model.bias, -1.0)

    def test_sequential_update_equals_online(self):
        # update="sequential" visits the batch's points in order: one batch
        # of three gives the hand-computed online result above.
        model = Perceptron(learning_rate=0.5, update="sequential")
        history = model.fit(
            X3, Y3, batch_size=3, epochs=1, shuffle=False, verbose=0
        )
        self.assertAllClose(model.kernel, [0.5, -1.0])
        self.assertAllClose(model.bias, 0.0)
        self.assertEqual(history.history["mistakes"], [2.0])
        self.assertAllClose(history.history["accuracy"], [1 / 3])
        # On blobs, batches of 8 give the weights of batch_size=1.
        x, y = _blobs(n=24)
        online = Perceptron(learning_rate=0.1)
        online.fit(x, y, batch_size=1, epochs=2, shuffle=False, verbose=0)
        seq = Perceptron(learning_rate=0.1, update="sequential")
        seq.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        self.assertAllClose(seq.kernel, online.kernel, atol=1e-6)
        self.assertAllClose(seq.bias, online.bias, atol=1e-6)
        self.assertEqual(len(seq.boundaries_), 2)

    def test_sample_weight_scales_update(self):
        model = Perceptron(learning_rate=0.5)
        weights = np.array([2.0, 1.0, 1.0], "float32")
        model.fit(
            X3[:1], Y3[:1], sample_weight=weights[:1], batch_size=1, verbose=0
        )
        self.assertAllClose(model.kernel, [-1.0, -1.0])
        self.assertAllClose(model.bias, -1.0)

    def test_converges_on_separable_blobs_and_records_boundaries(self):
        x, y = _blobs()
        model = Perceptron(learning_rate=0.1)
        epochs = 4
        history = model.fit(x, y, batch_size=1, epochs=epochs, verbose=0)
        predictions = model.predict(x, verbose=0)[:, 0]
        self.assertEqual(np.mean(predictions == y), 1.0)
        self.assertEqual(history.history["mistakes"][-1], 0.0)
        self.assertEqual(len(model.boundaries_), epochs)
        w_last, b_last = model.boundaries_[-1]
        self.assertAllClose(w_last, model.kernel)
        self.assertAllClose(b_last, model.bias)
        self.assertGreater(history.history["mistakes"][0], 0)
        # The records are copies: changing the weights leaves them alone.
        model.kernel.assign(np.zeros(2, "float32"))
        self.assertAllClose(model.boundaries_[-1][0], w_last)
        self.assertFalse(np.allclose(w_last, 0.0))
        model.kernel.assign(w_last)
        scores = np.asarray(model.score(x))
        self.assertTrue(np.all((scores >= 0) == (y == 1)))
        metrics = model.evaluate(x, y, verbose=0, return_dict=True)
        self.assertEqual(metrics["accuracy"], 1.0)
        self.assertEqual(metrics["mistakes"], 0.0)

    def test_no_recording_when_disabled(self):
        model = Perceptron(record_boundaries=False)
        model.fit(X3, Y3, batch_size=3, epochs=2, verbose=0)
        self.assertEqual(model.boundaries_, [])

    def test_forward_equals_dense_with_step(self):
        rng = np.random.default_rng(1)
        x = rng.standard_normal((16, 3)).astype("float32")
        model = Perceptron()
        model(x)
        model.kernel.assign(rng.standard_normal(3).astype("float32"))
        model.bias.assign(0.3)
        dense = keras.layers.Dense(1)
        dense.build((None, 3))
        dense.set_weights(
            [np.asarray(model.kernel)[:, None], np.array([0.3], "float32")]
        )
        expected = (np.asarray(dense(x)) >= 0).astype("float32")
        self.assertAllClose(model(x), expected)
        self.assertAllClose(model.score(x), np.asarray(dense(x))[:, 0])

    def test_saving_and_config(self):
        x, y = _blobs(n=8)
        model = Perceptron(learning_rate=0.25)
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        reloaded = self.run_model_saving_test(model, x)
        self.assertEqual(reloaded.learning_rate, 0.25)
        self.assertTrue(reloaded.record_boundaries)
        self.assertAllClose(reloaded.kernel, model.kernel)
        clone = Perceptron.from_config(model.get_config())
        self.assertEqual(clone.get_config(), model.get_config())
        # A reloaded perceptron trains on: `fit` compiles it again.
        reloaded.fit(X3, Y3, batch_size=1, epochs=1, verbose=0)
        self.assertEqual(len(reloaded.boundaries_), 1)

    @pytest.mark.large
    def test_export_label_and_score(self):
        model = Perceptron()
        model(X3)
        model.kernel.assign([0.5, -1.0])
        model.bias.assign(0.25)
        path = self.run_export_test(
            model,
            [{"features": X3}, {"features": X3[:1]}],
        )
        self.assertTrue((path / "saved_model.pb").exists())
        outputs = model.serve(X3)
        self.assertEqual(
            keras.backend.standardize_dtype(outputs["label"].dtype), "int32"
        )
        self.assertAllEqual(outputs["label"], [0, 1, 0])
        self.assertAllClose(outputs["score"], [-0.25, 2.25, -2.25])

    def test_invalid_args_raise(self):
        with self.assertRaisesRegex(ValueError, "learning_rate.*got -1"):
            Perceptron(learning_rate=-1)
        with self.assertRaisesRegex(ValueError, "learning_rate.*got 'a'"):
            Perceptron(learning_rate="a")
        with self.assertRaisesRegex(ValueError, "update.*got 'online'"):
            Perceptron(update="online")
        with self.assertRaisesRegex(TypeError, "record_boundaries"):
            Perceptron(record_boundaries=1)
        with self.assertRaisesRegex(ValueError, "takes no loss.*'mse'"):
            Perceptron().compile(loss="mse")
        with self.assertRaisesRegex(ValueError, r"0 or 1, got .*\[-1\.0"):
            Perceptron().fit(X3, np.array([-1.0, 1.0, 1.0]), verbose=0)
        with self.assertRaisesRegex(ValueError, "input_shape"):
            Perceptron()(np.zeros((2, 3, 4), "float32"))
