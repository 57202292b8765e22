import keras
import numpy as np
import pytest

from refnn.testing import TestCase


@keras.saving.register_keras_serializable(package="refnn_tests")
class ForgetfulScale(keras.layers.Layer):
    """Multiplies by `scale` but forgets it in `get_config` (a planted bug)."""

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        return x * self.scale

    def get_config(self):
        config = super().get_config()
        config.pop("scale", None)
        return config


class LinearRegression(keras.Model):
    """y = xW + b with an MSE loss and a hand-written gradient."""

    def __init__(self, wrong=False, **kwargs):
        super().__init__(**kwargs)
        self.wrong = wrong
        self.dense = keras.layers.Dense(2)

    def call(self, x):
        return self.dense(x)

    def compute_gradients(self, x, y):
        y_hat = self(x)
        n, k = y.shape
        # dE/dy_hat for E = mean((y_hat - y)**2) over all n*k entries.
        factor = 1.0 if self.wrong else 2.0  # the planted bug drops the 2
        delta = factor * (y_hat - y) / (n * k)
        grad_w = keras.ops.matmul(keras.ops.transpose(x), delta)
        grad_b = keras.ops.sum(delta, axis=0)
        return [grad_w, grad_b]


def _regression(wrong):
    model = LinearRegression(wrong=wrong)
    model.compile(loss="mse")
    model(np.zeros((1, 3), "float32"))
    return model


class HelpersTest(TestCase):
    def test_run_layer_test_on_dense_with_variable_sequence_length(self):
        x = np.arange(2 * 3 * 4, dtype="float32").reshape(2, 3, 4) / 10
        out = self.run_layer_test(
            keras.layers.Dense,
            {"units": 2, "kernel_initializer": "ones"},
            input_data=x,
            expected_output_shape=(2, 3, 2),
            # Seed forward pass with all-one weights: each unit sums x.
            expected_output=np.repeat(x.sum(-1, keepdims=True), 2, -1),
            variable_input_data=np.ones((3, 5, 4), "float32"),
        )
        self.assertEqual(tuple(out.shape), (2, 3, 2))

    def test_run_layer_test_catches_a_wrong_shape(self):
        with pytest.raises(AssertionError, match="shape"):
            self.run_layer_test(
                keras.layers.Dense,
                {"units": 2},
                input_data=np.ones((2, 4), "float32"),
                expected_output_shape=(2, 3),
                run_training=False,
                run_jit=False,
                run_saving=False,
                run_export=False,
            )

    def test_run_layer_test_catches_a_wrong_output(self):
        with pytest.raises(AssertionError):
            self.run_layer_test(
                keras.layers.Dense,
                {"units": 1, "kernel_initializer": "ones"},
                input_data=np.ones((2, 4), "float32"),
                expected_output=np.full((2, 1), 5.0, "float32"),
                run_training=False,
                run_jit=False,
                run_saving=False,
                run_export=False,
            )

    def test_run_layer_test_with_dict_inputs_and_training(self):
        x = np.ones((2, 3, 4), "float32")
        self.run_layer_test(
            keras.layers.Dense,
            {"units": 2},
            input_data={"inputs": x},
            expected_output_shape=(2, 3, 2),
            run_export=False,
        )

    def test_saving_test_catches_incomplete_config(self):
        inputs = keras.Input((3,))
        model = keras.Model(inputs, ForgetfulScale(scale=3.0)(inputs))
        with pytest.raises(AssertionError):
            self.run_model_saving_test(model, np.ones((2, 3), "float32"))

    def test_saving_test_passes_for_a_sound_model(self):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        reloaded = self.run_model_saving_test(model, np.ones((2, 3), "f4"))
        self.assertAllClose(reloaded.get_weights(), model.get_weights())

    def test_assert_grads_match_accepts_correct_gradients(self):
        x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
        y = np.random.default_rng(1).normal(size=(5, 2)).astype("float32")
        grads = self.assert_grads_match(_regression(wrong=False), x, y)
        self.assertEqual([g.shape for g in grads], [(3, 2), (2,)])
        self.assertGreater(float(np.abs(grads[0]).sum()), 0.0)

    def test_assert_grads_match_catches_wrong_gradients(self):
        x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
        y = np.random.default_rng(1).normal(size=(5, 2)).astype("float32")
        with pytest.raises(AssertionError, match="GradientTape"):
            self.assert_grads_match(_regression(wrong=True), x, y)

    def test_assert_grads_match_with_custom_loss_fn(self):
        x = np.ones((4, 3), "float32")
        y = np.zeros((4, 2), "float32")

        def half_sse(model, x, y):
            return 0.5 * keras.ops.sum((model(x) - y) ** 2)

        # The "wrong" gradient (factor 1, divided by n*k) is right for
        # E = sum((y_hat - y)**2) / (2 n k); scale the loss accordingly.
        def scaled(model, x, y):
            return half_sse(model, x, y) / 8.0

        self.assert_grads_match(_regression(wrong=True), x, y, loss_fn=scaled)

    def test_assert_all_close_on_nested_structures(self):
        self.assertAllClose({"a": [1.0, 2.0]}, {"a": np.array([1.0, 2.0])})
        with pytest.raises(AssertionError):
            self.assertAllClose({"a": [1.0, 2.0]}, {"a": [1.0, 2.1]})
        with pytest.raises(AssertionError):
            self.assertAllEqual([1, 2], [1, 3])


class ExportHelperTest(TestCase):
    def test_run_export_test_with_serving_signatures(self):
        class Scorer(keras.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.dense = keras.layers.Dense(3, activation="softmax")

            def call(self, x):
                return self.dense(x)

            def serving_signatures(self):
                spec = {"features": ((None, 4), "float32")}
                return {"serving_default": (self.serve, spec)}

            def serve(self, features):
                probs = self(features, training=False)
                return {
                    "probabilities": probs,
                    "label": keras.ops.argmax(probs, axis=-1),
                }

        model = Scorer()
        model(np.zeros((1, 4), "float32"))
        rng = np.random.default_rng(0)
        path = self.run_export_test(
            model,
            [
                {"features": rng.normal(size=(1, 4)).astype("float32")},
                {"features": rng.normal(size=(6, 4)).astype("float32")},
            ],
        )
        self.assertTrue((path / "saved_model.pb").exists())
