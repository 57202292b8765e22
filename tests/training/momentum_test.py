"""Momentum: the seed's weighted sum equals keras SGD(momentum=β)."""

import keras
import numpy as np
import pytest

from refnn.training import momentum_updates


def _f(x):  # local minimum near x = 1.13, global near x = -1.30
    return x**4 - 3 * x**2 + x


def _df(x):
    return 4 * x**3 - 6 * x + 1


def test_weighted_sum_equals_keras_sgd_momentum():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(12, 3, 2)).astype("float32")
    eta, beta = 0.05, 0.8
    w = keras.Variable(np.zeros((3, 2), "float32"))
    opt = keras.optimizers.SGD(eta, momentum=beta)
    keras_updates = []
    for g in grads:
        before = w.numpy().copy()
        opt.apply([keras.ops.convert_to_tensor(g)], [w])
        keras_updates.append(w.numpy() - before)
    ours = momentum_updates(grads, eta, beta)
    np.testing.assert_allclose(ours, np.array(keras_updates), atol=1e-6)
    # First steps by hand: step(1); step(2) + β step(1).
    np.testing.assert_allclose(ours[0], -eta * grads[0], atol=1e-7)
    np.testing.assert_allclose(
        ours[1], -eta * grads[1] + beta * -eta * grads[0], atol=1e-7
    )


def test_beta_zero_is_plain_gradient_descent():
    grads = np.arange(5, dtype="float32")[:, None]
    np.testing.assert_allclose(
        momentum_updates(grads, 0.1, 0.0), -0.1 * grads, atol=1e-7
    )


def _descend(momentum, steps=300, x0=2.0, eta=0.01):
    x = keras.Variable(x0)
    opt = keras.optimizers.SGD(eta, momentum=momentum)
    for _ in range(steps):
        grad = keras.ops.convert_to_tensor(_df(float(x.numpy())))
        opt.apply([grad], [x])
    return float(x.numpy())


def test_momentum_escapes_local_minimum():
    plain = _descend(momentum=0.0)
    heavy = _descend(momentum=0.9)
    assert plain == pytest.approx(1.1309, abs=1e-3)  # stuck: local minimum
    assert abs(_df(plain)) < 1e-3
    assert heavy == pytest.approx(-1.3008, abs=1e-3)  # global minimum
    assert _f(heavy) < _f(plain) - 2.0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"learning_rate": 0.1, "beta": 1.0}, "beta"),
        ({"learning_rate": 0.0, "beta": 0.5}, "learning_rate"),
    ],
)
def test_invalid_args_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        momentum_updates([[1.0]], **kwargs)
