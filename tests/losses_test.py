import math

import keras
import numpy as np
import tensorflow as tf

from refnn import losses
from refnn.testing import TestCase


def _data(num_classes=4, batch=6, seed=0):
    rng = np.random.default_rng(seed)
    logits = (3 * rng.standard_normal((batch, num_classes))).astype("float32")
    labels = rng.integers(0, num_classes, size=(batch,))
    one_hot = np.eye(num_classes, dtype="float32")[labels]
    probs = np.asarray(keras.activations.softmax(logits))
    return logits, labels, one_hot, probs


PAIRS = [
    (losses.MeanSquaredError, keras.losses.MeanSquaredError, {}),
    (losses.BinaryCrossEntropy, keras.losses.BinaryCrossentropy, {}),
    (
        losses.BinaryCrossEntropy,
        keras.losses.BinaryCrossentropy,
        {"from_logits": True},
    ),
    (losses.CategoricalCrossEntropy, keras.losses.CategoricalCrossentropy, {}),
    (
        losses.CategoricalCrossEntropy,
        keras.losses.CategoricalCrossentropy,
        {"from_logits": True},
    ),
]


class LossesTest(TestCase):
    def _inputs(self, ours_cls, kwargs):
        logits, labels, one_hot, probs = _data()
        if ours_cls is losses.BinaryCrossEntropy:
            y = (labels[:, None] > 1).astype("float32")
            z = logits[:, :1]
            pred = z if kwargs.get("from_logits") else 1 / (1 + np.exp(-z))
            return y, pred
        pred = logits if kwargs.get("from_logits") else probs
        return one_hot, pred

    def test_equal_to_keras_losses(self):
        weights = np.linspace(0.5, 2.0, 6).astype("float32")
        for ours_cls, keras_cls, kwargs in PAIRS:
            y, pred = self._inputs(ours_cls, kwargs)
            for reduction in ["sum_over_batch_size", "sum", None]:
                ours = ours_cls(reduction=reduction, **kwargs)
                theirs = keras_cls(reduction=reduction, **kwargs)
                msg = f"{ours_cls.__name__} {kwargs} {reduction}"
                self.assertAllClose(
                    ours(y, pred), theirs(y, pred), atol=1e-5, msg=msg
                )
                self.assertAllClose(
                    ours(y, pred, sample_weight=weights),
                    theirs(y, pred, sample_weight=weights),
                    atol=1e-5,
                    msg=msg,
                )

    def test_sparse_equal_to_keras_and_to_one_hot(self):
        logits, labels, one_hot, probs = _data()
        for from_logits, pred in [(True, logits), (False, probs)]:
            ours = losses.SparseCategoricalCrossEntropy(from_logits=from_logits)
            theirs = keras.losses.SparseCategoricalCrossentropy(
                from_logits=from_logits
            )
            self.assertAllClose(
                ours(labels, pred), theirs(labels, pred), atol=1e-5
            )
            self.assertAllClose(
                ours(labels[:, None], pred), theirs(labels, pred), atol=1e-5
            )
            cce = losses.CategoricalCrossEntropy(from_logits=from_logits)
            self.assertAllClose(
                ours(labels, pred), cce(one_hot, pred), atol=1e-5
            )

    def test_seed_cross_entropy_example(self):
        # Seed 002 "Cross-Entropy": -ln .6 - ln .2 - ln .1 - ln .7 = 4.8.
        # Two points of class 1 with P(1) = .6, .2; two of class 0 with
        # P(1) = .9, .3 (so P(0) = .1, .7).
        y = np.array([[1.0], [1.0], [0.0], [0.0]], "float32")
        p = np.array([[0.6], [0.2], [0.9], [0.3]], "float32")
        expected = -(
            math.log(0.6) + math.log(0.2) + math.log(0.1) + math.log(0.7)
        )
        total = losses.BinaryCrossEntropy(reduction="sum")(y, p)
        self.assertAllClose(total, expected, atol=1e-5)
        self.assertEqual(round(float(total), 1), 4.8)
        # The seed's log-loss −1/N Σ is the default mean.
        self.assertAllClose(
            losses.BinaryCrossEntropy()(y, p), expected / 4, atol=1e-6
        )
        # The same points as a two-class softmax output.
        probs2 = np.concatenate([1 - p, p], axis=1)
        self.assertAllClose(
            losses.SparseCategoricalCrossEntropy(reduction="sum")(
                y[:, 0].astype("int32"), probs2
            ),
            expected,
            atol=1e-5,
        )

    def test_sum_squared_error_is_half_sse(self):
        y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "float32")
        p = np.array([[0.5, 0.5], [0.2, 0.9], [1.0, 0.0]], "float32")
        sse = 0.5 * np.sum((y - p) ** 2)
        self.assertAllClose(
            losses.SumSquaredError(reduction="sum")(y, p), sse, atol=1e-6
        )
        self.assertAllClose(losses.SumSquaredError()(y, p), sse / 3, atol=1e-6)
        # MSE averages the outputs, SSE halves their sum.
        self.assertAllClose(
            losses.MeanSquaredError(reduction="sum")(y, p),
            np.sum(np.mean((y - p) ** 2, axis=1)),
            atol=1e-6,
        )

    def test_gradients_equal_keras_autodiff(self):
        for ours_cls, keras_cls, kwargs in PAIRS:
            y, pred = self._inputs(ours_cls, kwargs)
            pred = tf.constant(pred)
            grads = []
            for loss in [ours_cls(**kwargs), keras_cls(**kwargs)]:
                with tf.GradientTape() as tape:
                    tape.watch(pred)
                    value = loss(y, pred)
                grads.append(tape.gradient(value, pred))
            self.assertAllClose(
                grads[0], grads[1], atol=1e-5, msg=ours_cls.__name__
            )

    def test_logit_gradient_is_seed_delta(self):
        # ∂E/∂z = ŷ − y for cross-entropy on logits (sum reduction).
        logits, labels, one_hot, probs = _data()
        z = tf.constant(logits)
        with tf.GradientTape() as tape:
            tape.watch(z)
            loss = losses.CategoricalCrossEntropy(
                from_logits=True, reduction="sum"
            )(one_hot, z)
        self.assertAllClose(tape.gradient(loss, z), probs - one_hot, atol=1e-6)
        zb = tf.constant(logits[:, :1])
        yb = (labels[:, None] > 1).astype("float32")
        with tf.GradientTape() as tape:
            tape.watch(zb)
            loss = losses.BinaryCrossEntropy(from_logits=True, reduction="sum")(
                yb, zb
            )
        self.assertAllClose(
            tape.gradient(loss, zb),
            1 / (1 + np.exp(-logits[:, :1])) - yb,
            atol=1e-6,
        )
        # SSE: ∂E/∂ŷ = −(y − ŷ).
        p = tf.constant(probs)
        with tf.GradientTape() as tape:
            tape.watch(p)
            loss = losses.SumSquaredError(reduction="sum")(one_hot, p)
        self.assertAllClose(tape.gradient(loss, p), probs - one_hot, atol=1e-6)

    def test_stable_at_large_logits(self):
        z = tf.constant([[-100.0, 100.0], [100.0, -100.0], [0.0, 0.0]])
        y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], "float32")
        labels = np.array([0, 0, 1])
        cases = [
            lambda v: losses.BinaryCrossEntropy(from_logits=True)(y, v),
            lambda v: losses.CategoricalCrossEntropy(from_logits=True)(y, v),
            lambda v: losses.SparseCategoricalCrossEntropy(from_logits=True)(
                labels, v
            ),
            lambda v: losses.BinaryCrossEntropy()(y, tf.sigmoid(v)),
            lambda v: losses.CategoricalCrossEntropy()(y, tf.nn.softmax(v)),
        ]
        for fn in cases:
            with tf.GradientTape() as tape:
                tape.watch(z)
                value = fn(z)
            grad = tape.gradient(value, z)
            self.assertTrue(np.isfinite(float(value)))
            self.assertTrue(np.all(np.isfinite(grad)))
        # A confidently wrong logit costs about its size: −ln σ(−100) ≈ 100.
        value = losses.BinaryCrossEntropy(from_logits=True, reduction=None)(
            [[1.0]], [[-100.0]]
        )
        self.assertAllClose(value, [100.0], atol=1e-4)

    def test_serialization_round_trip(self):
        for cls in [
            losses.MeanSquaredError,
            losses.SumSquaredError,
            losses.BinaryCrossEntropy,
            losses.CategoricalCrossEntropy,
            losses.SparseCategoricalCrossEntropy,
        ]:
            kwargs = {"reduction": "sum"}
            if cls not in (losses.MeanSquaredError, losses.SumSquaredError):
                kwargs["from_logits"] = True
            loss = cls(**kwargs)
            restored = keras.losses.deserialize(keras.losses.serialize(loss))
            self.assertIsInstance(restored, cls)
            self.assertEqual(restored.get_config(), loss.get_config())

    def test_used_by_compiled_model(self):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile("sgd", loss=losses.CategoricalCrossEntropy(True))
        x = np.ones((4, 3), "float32")
        y = np.eye(2, dtype="float32")[[0, 1, 0, 1]]
        history = model.fit(x, y, epochs=1, verbose=0)
        self.assertTrue(np.isfinite(history.history["loss"][0]))

    def test_invalid_args_raise(self):
        with self.assertRaisesRegex(TypeError, "from_logits must be a bool"):
            losses.BinaryCrossEntropy(from_logits="yes")
        with self.assertRaisesRegex(ValueError, "reduction"):
            losses.SumSquaredError(reduction="mean-ish")
