"""Tests for refnn.training.regularizers (seeds/002 "Regularization")."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn.testing import TestCase
from refnn.training import L1, L2, ElasticNet

W = np.array([[0.5, -1.5, 0.0], [2.0, -0.25, 3.0]], dtype="float32")


def test_values_match_seed_formulas():
    lam = 0.1
    np.testing.assert_allclose(float(L1(lam)(W)), lam * np.abs(W).sum(), 1e-6)
    np.testing.assert_allclose(float(L2(lam)(W)), lam * (W**2).sum(), 1e-6)
    expected = lam * (0.3 * np.abs(W).sum() + 0.7 * (W**2).sum())
    np.testing.assert_allclose(
        float(ElasticNet(l=lam, alpha=0.3)(W)), expected, 1e-6
    )
    # Seed's worked sizes: |1| + |-2| = 3, 1 + 4 = 5.
    w = np.array([1.0, -2.0], "float32")
    np.testing.assert_allclose(float(L1(1.0)(w)), 3.0)
    np.testing.assert_allclose(float(L2(1.0)(w)), 5.0)


def test_values_match_keras_regularizers():
    np.testing.assert_allclose(
        float(L1(0.03)(W)), float(keras.regularizers.L1(0.03)(W)), 1e-6
    )
    # Keras's L2 is λΣw² too (no ½ factor).
    np.testing.assert_allclose(
        float(L2(0.03)(W)), float(keras.regularizers.L2(0.03)(W)), 1e-6
    )
    en = ElasticNet(l=0.2, alpha=0.25)
    twin = keras.regularizers.L1L2(l1=en.l1, l2=en.l2)
    np.testing.assert_allclose(float(en(W)), float(twin(W)), 1e-6)


@pytest.mark.parametrize(
    "reg", [L1(0.1), L2(0.1), ElasticNet(0.1, 0.4)], ids=["l1", "l2", "en"]
)
def test_gradient_matches_tape(reg):
    w = tf.Variable(W)
    with tf.GradientTape() as tape:
        penalty = reg(w)
    expected = tape.gradient(penalty, w).numpy()
    np.testing.assert_allclose(reg.gradient(W).numpy(), expected, atol=1e-6)


def test_gradient_formulas():
    np.testing.assert_allclose(L1(0.5).gradient(W), 0.5 * np.sign(W))
    np.testing.assert_allclose(L2(0.5).gradient(W), 2 * 0.5 * W)
    # Seed: one SGD step with L2 is weight decay w(1 - 2λη) - η∂L/∂w.
    lam, eta, dl = 0.1, 0.5, np.ones_like(W)
    step = W - eta * (dl + L2(lam).gradient(W).numpy())
    np.testing.assert_allclose(step, W * (1 - 2 * lam * eta) - eta * dl, 1e-6)


@pytest.mark.parametrize(
    "reg", [L1(0.1), L2(0.2), ElasticNet(0.3, 0.6)], ids=["l1", "l2", "en"]
)
def test_serialization_and_keras_model_round_trip(reg, tmp_path):
    restored = keras.regularizers.deserialize(keras.regularizers.serialize(reg))
    assert type(restored) is type(reg)
    assert restored.get_config() == reg.get_config()
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(2, kernel_regularizer=reg)(inputs)
    model = keras.Model(inputs, outputs)
    model(np.ones((1, 3), "float32"))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        float(sum(loaded.losses)), float(sum(model.losses))
    )
    assert type(loaded.layers[-1].kernel_regularizer) is type(reg)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"cls": L1, "l1": -1.0}, "l1"),
        ({"cls": L2, "l2": "big"}, "l2"),
        ({"cls": ElasticNet, "alpha": 1.5}, "alpha"),
        ({"cls": ElasticNet, "l": float("nan")}, "l must"),
    ],
)
def test_invalid_args_raise(kwargs, match):
    cls = kwargs.pop("cls")
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


class MLPRegularizerGradientTest(TestCase):
    """refnn.models.MLP adds `gradient(W)` to its hand-derived δ gradient."""

    def _check(self, regularizer):
        from refnn.models import MLP

        rng = np.random.default_rng(1)
        x = rng.normal(size=(6, 4)).astype("float32")
        y = rng.uniform(size=(6, 2)).astype("float32")
        model = MLP([5, 2], activation="tanh", kernel_regularizer=regularizer)
        model.build((None, 4))
        explicit = self.assert_grads_match(model, x, y)
        # The penalty really is in there: the gradient differs from the
        # unregularized one by exactly regularizer.gradient(W).
        plain = MLP([5, 2], activation="tanh")
        plain.build((None, 4))
        plain.set_weights(model.get_weights())
        base = [np.asarray(g) for g in plain.compute_gradients(x, y)]
        variables = model.trainable_variables
        for w in model.kernels:
            i = next(k for k, v in enumerate(variables) if v is w)
            self.assertAllClose(
                explicit[i] - base[i],
                regularizer.gradient(w).numpy(),
                atol=1e-6,
            )
        self.assertFalse(np.allclose(explicit[0], base[0]))

    def test_l1(self):
        self._check(L1(0.05))

    def test_l2(self):
        self._check(L2(0.05))

    def test_elastic_net(self):
        self._check(ElasticNet(0.1, alpha=0.3))

    def test_saved_with_regularizer(self):
        from refnn.models import MLP

        model = MLP([3, 1], kernel_regularizer=ElasticNet(0.2, 0.4))
        model.build((None, 2))
        restored = MLP.from_config(model.get_config())
        self.assertIsInstance(restored.kernel_regularizer, ElasticNet)
        self.assertEqual(
            restored.kernel_regularizer.get_config(),
            {"l": 0.2, "alpha": 0.4},
        )
