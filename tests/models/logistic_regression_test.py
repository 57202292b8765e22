import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn import losses
from refnn.models import LogisticRegression
from refnn.testing import TestCase


def _data(num_classes, n=12, dim=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype("float32")
    y = rng.integers(0, num_classes, size=(n,)).astype("int32")
    return x, y


def _random_model(num_classes, dim=3, seed=0):
    model = LogisticRegression(num_classes)
    model.build((None, dim))
    rng = np.random.default_rng(seed + 1)
    for v in model.trainable_variables:
        v.assign(rng.standard_normal(v.shape).astype("float32"))
    return model


def _blobs(n=80, seed=0):
    rng = np.random.default_rng(seed)
    pos = rng.normal((1.5, 1.5), 1.0, size=(n // 2, 2))
    neg = rng.normal((-1.5, -1.5), 1.0, size=(n // 2, 2))
    x = np.concatenate([pos, neg]).astype("float32")
    y = np.r_[np.ones(n // 2), np.zeros(n // 2)].astype("int32")
    return x, y


class LogisticRegressionTest(TestCase):
    def test_gradient_is_seed_formula(self):
        # ∂E/∂w = −1/m Σ (y − ŷ) x, ∂E/∂b = −1/m Σ (y − ŷ).
        x, y = _data(2)
        model = _random_model(2)
        w = np.asarray(model.kernel)[:, 0]
        b = float(np.asarray(model.bias)[0])
        y_hat = 1 / (1 + np.exp(-(x @ w + b)))
        grad_w, grad_b = model.compute_gradients(x, y)
        self.assertAllClose(
            grad_w[:, 0], -np.mean((y - y_hat)[:, None] * x, axis=0), atol=1e-6
        )
        self.assertAllClose(grad_b, [-np.mean(y - y_hat)], atol=1e-6)

    def test_gradients_match_tape_binary(self):
        x, y = _data(2)
        model = _random_model(2)
        self.assert_grads_match(model, x, y)
        self.assert_grads_match(model, x, y[:, None])

    def test_gradients_match_tape_softmax(self):
        x, y = _data(4)
        model = _random_model(4)
        self.assert_grads_match(model, x, y)
        self.assert_grads_match(model, x, np.eye(4, dtype="float32")[y])

    def test_gradients_match_tape_with_sample_weight(self):
        for k in [2, 3]:
            x, y = _data(k)
            model = _random_model(k)
            sw = np.linspace(0.0, 2.0, len(y)).astype("float32")
            explicit = model.compute_gradients(x, y, sample_weight=sw)
            variables = model.trainable_variables
            with tf.GradientTape() as tape:
                loss = model.compute_loss(
                    x=x, y=y, y_pred=model(x), sample_weight=sw
                )
            for mine, ref in zip(explicit, tape.gradient(loss, variables)):
                self.assertAllClose(mine, ref, atol=1e-6)

    def test_sgd_step_is_seed_update(self):
        # One full-batch SGD step: w ← w + α/m Σ (y − ŷ) x.
        x, y = _data(2)
        model = _random_model(2)
        w0 = np.asarray(model.kernel)[:, 0].copy()
        b0 = float(np.asarray(model.bias)[0])
        y_hat = 1 / (1 + np.exp(-(x @ w0 + b0)))
        alpha = 0.3
        model.compile(keras.optimizers.SGD(alpha))
        model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
        expected_w = w0 + alpha * np.mean((y - y_hat)[:, None] * x, axis=0)
        self.assertAllClose(model.kernel[:, 0], expected_w, atol=1e-6)
        self.assertAllClose(
            model.bias, [b0 + alpha * np.mean(y - y_hat)], atol=1e-6
        )

    def test_forward_equals_dense(self):
        x, _ = _data(2)
        for k, activation in [(2, "sigmoid"), (5, "softmax")]:
            model = _random_model(k)
            dense = keras.layers.Dense(model.units, activation=activation)
            dense.build((None, 3))
            dense.set_weights([np.asarray(v) for v in model.weights])
            self.assertAllClose(model(x), dense(x), atol=1e-6)

    def test_reported_loss_is_cross_entropy(self):
        x, y = _data(3)
        model = _random_model(3)
        model.compile("sgd", metrics=["accuracy"])
        result = model.evaluate(x, y, verbose=0, return_dict=True)
        probs = model.predict(x, verbose=0)
        expected = keras.losses.SparseCategoricalCrossentropy()(y, probs)
        self.assertAllClose(result["loss"], expected, atol=1e-5)
        self.assertAllClose(
            result["accuracy"], np.mean(probs.argmax(-1) == y), atol=1e-6
        )
        self.assertAllClose(
            losses.SparseCategoricalCrossEntropy()(y, probs),
            expected,
            atol=1e-5,
        )

    def test_learns_blobs(self):
        x, y = _blobs()
        model = LogisticRegression()
        model.compile(keras.optimizers.SGD(0.5), metrics=["accuracy"])
        history = model.fit(x, y, batch_size=16, epochs=4, verbose=0)
        losses_seen = history.history["loss"]
        self.assertLess(losses_seen[-1], losses_seen[0])
        self.assertLess(losses_seen[-1], 0.25)
        self.assertGreaterEqual(history.history["accuracy"][-1], 0.95)

    @pytest.mark.large
    def test_learns_digits(self):
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()
        x = (digits.data / 16.0).astype("float32")
        x_train, x_test, y_train, y_test = train_test_split(
            x,
            digits.target,
            test_size=0.25,
            random_state=0,
            stratify=digits.target,
        )
        model = LogisticRegression(num_classes=10)
        model.compile(
            keras.optimizers.SGD(0.5, momentum=0.9), metrics=["accuracy"]
        )
        model.fit(x_train, y_train, batch_size=32, epochs=3, verbose=0)
        result = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        self.assertGreaterEqual(result["accuracy"], 0.9)

    @pytest.mark.large
    def test_saving_and_export(self):
        x, y = _data(3)
        model = _random_model(3)
        reloaded = self.run_model_saving_test(model, x)
        self.assertEqual(reloaded.num_classes, 3)
        self.run_export_test(model, [{"features": x}, {"features": x[:1]}])
        outputs = model.serve(x)
        self.assertAllEqual(
            outputs["label"], np.asarray(model(x)).argmax(-1).astype("int32")
        )
        binary = _random_model(2)
        outputs = binary.serve(x)
        self.assertAllEqual(
            outputs["label"], (np.asarray(binary(x))[:, 0] >= 0.5).astype(int)
        )
        config = binary.get_config()
        self.assertEqual(
            LogisticRegression.from_config(config).get_config(), config
        )

    def test_invalid_args_raise(self):
        with self.assertRaisesRegex(ValueError, "num_classes.*got 1"):
            LogisticRegression(num_classes=1)
        with self.assertRaisesRegex(ValueError, "num_classes.*got 2.5"):
            LogisticRegression(num_classes=2.5)
        x, y = _data(2)
        with self.assertRaisesRegex(ValueError, "binary_crossentropy.*mse"):
            LogisticRegression().compile("sgd", loss="mse")
        with self.assertRaisesRegex(ValueError, "categorical_crossentropy"):
            LogisticRegression(num_classes=3).compile(
                "sgd", loss="binary_crossentropy"
            )
        with self.assertRaisesRegex(ValueError, r"\[0, 2\), got .*3"):
            LogisticRegression().fit(x, y + 2, verbose=0)
        with self.assertRaisesRegex(ValueError, "labels must be class ids"):
            _random_model(3).compute_gradients(x, np.zeros((12, 2)))


@pytest.mark.parametrize(
    "num_classes,loss",
    [
        (2, "binary_crossentropy"),
        (2, keras.losses.BinaryCrossentropy()),
        (3, "sparse_categorical_crossentropy"),
        (3, losses.CategoricalCrossEntropy()),
    ],
)
def test_compile_loss_of_the_derived_cross_entropy(num_classes, loss):
    """compile(loss=...) with the derived loss trains as compile() does."""
    x, y = _data(num_classes)
    weights = []
    for compiled in (None, loss):
        model = _random_model(num_classes)
        model.compile(keras.optimizers.SGD(0.5), loss=compiled)
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
