"""random_restarts keeps the run with the lowest validation loss."""

import keras
import numpy as np
import pytest

from refnn.training import random_restarts

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
Y = np.array([[0], [1], [1], [0]], "float32")  # XOR: has local minima


def _build():
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(2, activation="sigmoid"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    # Eager: for a 4-example problem tracing would cost more than training.
    model.compile(
        optimizer=keras.optimizers.SGD(2.0), loss="mse", run_eagerly=True
    )
    return model


def test_keeps_the_best_run_and_runs_differ():
    best, runs = random_restarts(
        _build, (X, Y), (X, Y), n=3, seed=10, epochs=3, batch_size=4
    )
    assert [r["seed"] for r in runs] == [10, 11, 12]
    losses = [r["val_loss"] for r in runs]
    assert len(set(losses)) == 3  # different initializations
    assert sum(r["best"] for r in runs) == 1
    chosen = next(r for r in runs if r["best"])
    assert chosen["val_loss"] == min(losses)
    assert best.evaluate(X, Y, verbose=0) == pytest.approx(min(losses))


def test_run_is_reproducible_from_its_seed():
    _, runs = random_restarts(_build, (X, Y), (X, Y), n=2, seed=3, epochs=2)
    _, again = random_restarts(_build, (X, Y), (X, Y), n=1, seed=4, epochs=2)
    assert again[0]["val_loss"] == runs[1]["val_loss"]


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"n": 0}, ValueError, "n must"),
        ({"n": 1, "seed": -1}, ValueError, "seed"),
        ({"n": 1, "build_fn": 3}, TypeError, "build_fn"),
        ({"n": 1, "train_data": (X,)}, ValueError, "train_data"),
    ],
)
def test_invalid_args_raise(kwargs, error, match):
    args = {"build_fn": _build, "train_data": (X, Y), "val_data": (X, Y)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        random_restarts(**args)
