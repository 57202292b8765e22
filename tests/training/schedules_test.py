"""Tests for refnn.training.schedules and LearningRateLogger."""

import math

import keras
import numpy as np
import pytest

from refnn.training import (
    ExponentialDecay,
    InverseSqrtDecay,
    LearningRateLogger,
    StepDecay,
    WarmupCosineDecay,
)

SCHEDULES = [
    InverseSqrtDecay(0.1),
    StepDecay(0.2, drop_every=3, factor=0.1),
    ExponentialDecay(0.5, decay_steps=4, rate=0.9),
    WarmupCosineDecay(0.3, warmup_steps=4, decay_steps=8, alpha=0.1),
]


def _value(schedule, step):
    return float(schedule(step))


def test_inverse_sqrt_is_seed_formula_with_t_equal_step_plus_one():
    s = InverseSqrtDecay(0.1)
    for step in (0, 1, 3, 8, 99):
        t = step + 1
        assert _value(s, step) == pytest.approx(0.1 / math.sqrt(t), 1e-6)
    assert _value(s, 0) == pytest.approx(0.1)  # η₁ = η₀
    assert _value(s, 3) == pytest.approx(0.05)  # η₄ = η₀ / 2


def test_step_decay_values():
    s = StepDecay(0.2, drop_every=3, factor=0.1)
    expected = {0: 0.2, 2: 0.2, 3: 0.02, 5: 0.02, 6: 0.002}
    for step, lr in expected.items():
        assert _value(s, step) == pytest.approx(lr, rel=1e-5)


def test_exponential_decay_values_and_keras_twin():
    s = ExponentialDecay(0.5, decay_steps=4, rate=0.9)
    twin = keras.optimizers.schedules.ExponentialDecay(0.5, 4, 0.9)
    for step in (0, 1, 4, 7, 20):
        assert _value(s, step) == pytest.approx(0.5 * 0.9 ** (step / 4), 1e-5)
        assert _value(s, step) == pytest.approx(float(twin(step)), 1e-6)


def test_warmup_cosine_values_and_keras_twin():
    s = WarmupCosineDecay(0.3, warmup_steps=4, decay_steps=8, alpha=0.1)
    assert _value(s, 0) == pytest.approx(0.0, abs=1e-7)
    assert _value(s, 2) == pytest.approx(0.15, 1e-6)
    assert _value(s, 4) == pytest.approx(0.3, 1e-6)
    assert _value(s, 8) == pytest.approx(0.3 * (0.1 + 0.9 * 0.5), 1e-5)
    assert _value(s, 12) == pytest.approx(0.03, 1e-5)
    assert _value(s, 100) == pytest.approx(0.03, 1e-5)
    twin = keras.optimizers.schedules.CosineDecay(
        0.0, 8, alpha=0.1, warmup_target=0.3, warmup_steps=4
    )
    for step in range(0, 16):
        assert _value(s, step) == pytest.approx(float(twin(step)), abs=1e-6)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_serialization_inside_saved_optimizer(schedule, tmp_path):
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule)
    )
    assert type(restored) is type(schedule)
    assert restored.get_config() == schedule.get_config()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    x = np.ones((8, 2), "float32")
    model.fit(x, x[:, :1], epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    config = loaded.optimizer.get_config()["learning_rate"]
    restored = keras.optimizers.schedules.deserialize(config)
    assert type(restored) is type(schedule)
    assert restored.get_config() == schedule.get_config()
    assert int(loaded.optimizer.iterations) == 2
    np.testing.assert_allclose(
        float(loaded.optimizer.learning_rate), _value(schedule, 2), rtol=1e-6
    )


def test_learning_rate_logger_records_schedule_per_epoch():
    schedule = InverseSqrtDecay(0.1)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    x = np.ones((6, 2), "float32")
    history = model.fit(
        x,
        x[:, :1],
        epochs=3,
        batch_size=2,
        verbose=0,
        callbacks=[LearningRateLogger()],
    )
    # 3 steps per epoch: after epoch e the optimizer is at step 3(e + 1).
    expected = [0.1 / math.sqrt(3 * (e + 1) + 1) for e in range(3)]
    np.testing.assert_allclose(
        history.history["learning_rate"], expected, rtol=1e-6
    )


@pytest.mark.parametrize(
    "factory,match",
    [
        (lambda: InverseSqrtDecay(0.0), "initial_learning_rate"),
        (lambda: StepDecay(0.1, drop_every=0), "drop_every"),
        (lambda: StepDecay(0.1, drop_every=2, factor=2.0), "factor"),
        (lambda: ExponentialDecay(0.1, 10, rate=0.0), "rate"),
        (lambda: WarmupCosineDecay(0.1, -1, 10), "warmup_steps"),
        (lambda: WarmupCosineDecay(0.1, 1, 10, alpha=2), "alpha"),
    ],
)
def test_invalid_args_raise(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()
