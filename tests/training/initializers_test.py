"""Glorot/He initializers: the variance each promises, vs Keras's twins."""

import keras
import numpy as np
import pytest

from refnn.training import GlorotNormal, GlorotUniform, HeNormal, HeUniform

SHAPE = (300, 500)
FAN_IN, FAN_OUT = SHAPE
CASES = [
    (GlorotUniform, keras.initializers.GlorotUniform, 2 / (FAN_IN + FAN_OUT)),
    (GlorotNormal, keras.initializers.GlorotNormal, 2 / (FAN_IN + FAN_OUT)),
    (HeUniform, keras.initializers.HeUniform, 2 / FAN_IN),
    (HeNormal, keras.initializers.HeNormal, 2 / FAN_IN),
]


@pytest.mark.parametrize(
    "ours,twin,var", CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_variance_matches_formula_and_keras(ours, twin, var):
    w = keras.ops.convert_to_numpy(ours(seed=1)(SHAPE))
    assert ours(seed=1).variance(SHAPE) == pytest.approx(var)
    assert abs(w.mean()) < 0.01 * np.sqrt(var) * 10
    assert w.var() == pytest.approx(var, rel=0.02)
    theirs = keras.ops.convert_to_numpy(twin(seed=1)(SHAPE))
    # Keras's normal variants use a truncated normal with σ / 0.8796, so the
    # variance is the same even though the distribution is not.
    assert theirs.var() == pytest.approx(var, rel=0.02)


def test_uniform_limits_and_normal_tails():
    w = keras.ops.convert_to_numpy(GlorotUniform(seed=2)(SHAPE))
    limit = np.sqrt(6 / (FAN_IN + FAN_OUT))
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    # A plain normal has ~4.6% of its mass beyond 2σ; Keras's truncated
    # normal has none.
    sigma = np.sqrt(2 / FAN_IN)
    ours = keras.ops.convert_to_numpy(HeNormal(seed=2)(SHAPE))
    theirs = keras.ops.convert_to_numpy(keras.initializers.HeNormal(2)(SHAPE))
    assert np.mean(np.abs(ours) > 2 * sigma) == pytest.approx(0.0455, abs=0.003)
    assert np.mean(np.abs(theirs) > 2 * sigma / 0.87962566) == 0.0


def test_he_keeps_relu_activation_scale_through_depth():
    x = np.random.default_rng(0).normal(size=(512, 256)).astype("float32")

    def mean_square_after(init, depth=10):
        a = x
        for i in range(depth):
            w = keras.ops.convert_to_numpy(init(seed=i)((256, 256)))
            a = np.maximum(a @ w, 0.0)
        return float(np.mean(a**2))

    start = float(np.mean(x**2))
    he = mean_square_after(HeNormal)
    glorot = mean_square_after(GlorotNormal)
    # He: E[a²] is preserved in expectation (finite width makes it wander
    # a little); Glorot halves it at every ReLU layer: 2⁻¹⁰ ≈ 0.001.
    assert 0.4 < he / start < 2.5
    assert glorot < start * 0.5**8


def test_conv_fans_and_serialization(tmp_path):
    init = HeUniform(seed=3)
    assert init.variance((3, 3, 4, 8)) == pytest.approx(2 / (3 * 3 * 4))
    restored = keras.initializers.deserialize(
        keras.initializers.serialize(init)
    )
    assert type(restored) is HeUniform and restored.seed == 3
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, kernel_initializer=init)]
    )
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.layers[0].kernel_initializer, HeUniform)
    np.testing.assert_array_equal(
        loaded.layers[0].kernel.numpy(), model.layers[0].kernel.numpy()
    )


def test_seed_reproducible_and_invalid_seed_raises():
    a = keras.ops.convert_to_numpy(GlorotNormal(seed=5)((4, 4)))
    b = keras.ops.convert_to_numpy(GlorotNormal(seed=5)((4, 4)))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="seed"):
        HeNormal(seed="x")
