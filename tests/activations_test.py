import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn import activations
from refnn.testing import TestCase

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu"]
WITH_KERAS_TWIN = ELEMENTWISE + ["softmax", "linear"]


def _random(shape=(4, 7), scale=3.0):
    rng = np.random.default_rng(0)
    return (scale * rng.standard_normal(shape)).astype("float32")


class ActivationsTest(TestCase):
    def test_equal_to_keras_activations(self):
        x = _random()
        for name in WITH_KERAS_TWIN:
            ours = activations.get(name)(x)
            theirs = getattr(keras.activations, name)(x)
            self.assertAllClose(ours, theirs, atol=1e-6, msg=name)

    def test_parametric_equal_to_keras(self):
        x = _random()
        self.assertAllClose(
            activations.leaky_relu(x, negative_slope=0.1),
            keras.activations.leaky_relu(x, negative_slope=0.1),
        )
        self.assertAllClose(
            activations.elu(x, alpha=0.5),
            keras.activations.elu(x, alpha=0.5),
        )

    def test_seed_formulas(self):
        x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], "float32")
        # σ(x) = 1 / (1 + e^-x); tanh = (e^x − e^-x) / (e^x + e^-x).
        self.assertAllClose(activations.sigmoid(x), 1 / (1 + np.exp(-x)))
        self.assertAllClose(
            activations.tanh(x),
            (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
        )
        self.assertAllClose(activations.relu(x), [0, 0, 0, 0.5, 2])
        self.assertAllClose(activations.step(x), [0, 0, 1, 1, 1])
        z = np.array([[1.0, 2.0, 3.0]], "float32")
        self.assertAllClose(
            activations.softmax(z), np.exp(z) / np.exp(z).sum(), atol=1e-7
        )

    def test_derivatives_equal_autodiff(self):
        x = tf.constant(_random((64,)))
        cases = [(name, {}) for name in ELEMENTWISE + ["linear"]]
        cases += [("leaky_relu", {"negative_slope": 0.1})]
        cases += [("elu", {"alpha": 0.3})]
        for name, params in cases:
            fn = activations.get(name)
            with tf.GradientTape() as tape:
                tape.watch(x)
                a = fn(x, **params)
            autodiff = tape.gradient(a, x)
            explicit = activations.derivative(name, **params)(x, a)
            self.assertAllClose(explicit, autodiff, atol=1e-6, msg=name)

    def test_derivative_accepts_functions(self):
        x = _random()
        a = activations.sigmoid(x)
        by_fn = activations.derivative(activations.sigmoid)(x, a)
        by_keras = activations.derivative(keras.activations.sigmoid)(x, a)
        self.assertAllClose(by_fn, a * (1 - a))
        self.assertAllClose(by_keras, a * (1 - a))

    def test_sigmoid_derivative_max_quarter_at_zero(self):
        z = np.linspace(-10, 10, 2001).astype("float32")
        d = np.asarray(
            activations.derivative("sigmoid")(z, activations.sigmoid(z))
        )
        self.assertAllClose(d.max(), 0.25)
        self.assertEqual(z[d.argmax()], 0.0)
        # tanh′(0) = 1: the larger slope the seed points out.
        t = activations.derivative("tanh")(z, activations.tanh(z))
        self.assertAllClose(np.max(t), 1.0)

    def test_stable_at_plus_minus_100(self):
        x = tf.constant([-100.0, -50.0, 0.0, 50.0, 100.0])
        for name in ELEMENTWISE + ["softmax", "step", "linear"]:
            fn = activations.get(name)
            with tf.GradientTape() as tape:
                tape.watch(x)
                a = fn(x)
                total = tf.reduce_sum(a * tf.range(5, dtype="float32"))
            grad = tape.gradient(total, x)
            self.assertTrue(np.all(np.isfinite(a)), msg=name)
            if name != "step":  # step has no gradient (None), by design
                self.assertTrue(np.all(np.isfinite(grad)), msg=name)
        sig = np.asarray(activations.sigmoid(x))
        self.assertAllClose(sig[[0, -1]], [0.0, 1.0])
        self.assertAllClose(np.asarray(activations.tanh(x))[[0, -1]], [-1, 1])
        self.assertAllClose(np.asarray(activations.softmax(x))[-1], 1.0)

    def test_tanh_gradient_at_zero(self):
        x = tf.constant([0.0])
        with tf.GradientTape() as tape:
            tape.watch(x)
            a = activations.tanh(x)
        self.assertAllClose(tape.gradient(a, x), [1.0])

    def test_autodiff_gradient_at_zero_equals_derivative(self):
        # A pre-activation of exactly 0 is common (zero bias, dead units);
        # the tape must give f'(0) there, e.g. sigmoid'(0) = 0.25.
        for name in ["sigmoid", "tanh", "elu", "selu"]:
            x = tf.constant([0.0])
            with tf.GradientTape() as tape:
                tape.watch(x)
                a = activations.get(name)(x)
            expected = activations.derivative(name)(x, a)
            self.assertAllClose(tape.gradient(a, x), expected, msg=name)

    def test_softmax_vjp_and_jacobian_equal_autodiff(self):
        z = tf.constant(_random((3, 5)))
        g = tf.constant(_random((3, 5), scale=1.0)[::-1].copy())
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(z)
            a = activations.softmax(z)
            total = tf.reduce_sum(a * g)
        self.assertAllClose(
            activations.softmax_vjp(a, g), tape.gradient(total, z), atol=1e-6
        )
        jac = tape.batch_jacobian(a, z)
        self.assertAllClose(activations.softmax_jacobian(a), jac, atol=1e-6)
        with self.assertRaisesRegex(ValueError, "softmax_vjp"):
            activations.derivative("softmax")

    def test_get_and_serialize_round_trip(self):
        for name in activations.NAMES:
            fn = activations.get(name)
            self.assertEqual(activations.serialize(fn), name)
            self.assertIs(activations.get(activations.serialize(fn)), fn)
        self.assertIs(activations.get(None), activations.linear)
        self.assertIs(activations.get(keras.activations.tanh), activations.tanh)
        self.assertEqual(activations.serialize(keras.activations.relu), "relu")

    def test_usable_in_keras_layer_config(self):
        layer = keras.layers.Dense(3, activation=activations.step)
        config = keras.layers.serialize(layer)
        restored = keras.layers.deserialize(config)
        self.assertIs(restored.activation, activations.step)

    def test_invalid_identifier_raises(self):
        with self.assertRaisesRegex(ValueError, "identifier='nope'"):
            activations.get("nope")
        with self.assertRaisesRegex(TypeError, "got 3"):
            activations.get(3)
        with pytest.raises(ValueError, match="No derivative"):
            activations.derivative(lambda x: x)
