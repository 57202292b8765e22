"""Full-batch, stochastic and mini-batch gradient descent over tf.data."""

import keras
import numpy as np
import pytest

from refnn.training import gradient_descent_dataset, updates_per_epoch

X = np.arange(20, dtype="float32").reshape(10, 2) / 10.0
Y = np.arange(10, dtype="float32")[:, None] / 10.0


def _epochs(ds, n):
    return [[b[1].numpy().ravel().tolist() for b in ds] for _ in range(n)]


def test_batch_structure_of_each_mode():
    full = _epochs(gradient_descent_dataset(X, Y, "full"), 2)
    assert [len(e) for e in full] == [1, 1]
    assert len(full[0][0]) == 10
    sgd = _epochs(gradient_descent_dataset(X, Y, "stochastic", seed=0), 3)
    for epoch in sgd:
        assert [len(b) for b in epoch] == [1] * 10
        assert sorted(v for b in epoch for v in b) == sorted(Y.ravel().tolist())
    assert sgd[0] != sgd[1] or sgd[1] != sgd[2]  # reshuffled each epoch
    again = _epochs(gradient_descent_dataset(X, Y, "stochastic", seed=0), 3)
    assert again == sgd  # reproducible sequence of orders
    mini = _epochs(gradient_descent_dataset(X, Y, "minibatch", 4, seed=1), 1)
    assert [len(b) for b in mini[0]] == [4, 4, 2]
    for mode, count in (("full", 1), ("stochastic", 10), ("minibatch", 3)):
        ds = gradient_descent_dataset(X, Y, mode, 4)
        assert int(ds.cardinality()) == count == updates_per_epoch(10, mode, 4)


def _linear():
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_full_batch_epoch_is_one_gradient_step_on_all_data():
    model = _linear()
    model.fit(gradient_descent_dataset(X, Y, "full"), epochs=1, verbose=0)
    # From w = 0, b = 0: ∂MSE/∂w = -2/m Σ y x, ∂MSE/∂b = -2/m Σ y.
    grad_w = -2.0 * (X * Y).mean(axis=0)
    grad_b = -2.0 * Y.mean()
    w, b = model.get_weights()
    np.testing.assert_allclose(w.ravel(), -0.1 * grad_w, rtol=1e-5)
    np.testing.assert_allclose(b, [-0.1 * grad_b], rtol=1e-5)
    assert int(model.optimizer.iterations) == 1


@pytest.mark.parametrize("mode,steps", [("stochastic", 20), ("minibatch", 6)])
def test_updates_per_epoch_in_training(mode, steps):
    model = _linear()
    ds = gradient_descent_dataset(X, Y, mode, batch_size=4, seed=0)
    model.fit(ds, epochs=2, verbose=0)
    assert int(model.optimizer.iterations) == steps


def test_invalid_args_raise():
    with pytest.raises(ValueError, match="mode"):
        gradient_descent_dataset(X, Y, "online")
    with pytest.raises(ValueError, match="batch_size"):
        gradient_descent_dataset(X, Y, "minibatch", batch_size=0)
    with pytest.raises(ValueError, match="same number"):
        gradient_descent_dataset(X, Y[:3])
