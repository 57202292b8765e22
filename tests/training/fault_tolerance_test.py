"""Fault tolerance: resume after a kill, NaN guards, determinism."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from refnn.training import check_finite, set_seed

SCRIPT = Path(__file__).with_name("resume_script.py")
ROOT = Path(__file__).resolve().parents[2]


def _run(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.large
def test_resume_after_kill_equals_uninterrupted_run(tmp_path):
    killed = _run(tmp_path / "backup", tmp_path / "resumed.npy", 2)
    assert killed.returncode == 17, killed.stderr[-2000:]
    assert not (tmp_path / "resumed.npy").exists()
    assert any((tmp_path / "backup").iterdir())  # a backup was left behind
    resumed = _run(tmp_path / "backup", tmp_path / "resumed.npy")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = _run(tmp_path / "straight", tmp_path / "straight.npy")
    assert straight.returncode == 0, straight.stderr[-2000:]
    for suffix in (".npy", "_opt.npy"):
        a = np.load(tmp_path / f"resumed{suffix}")
        b = np.load(tmp_path / f"straight{suffix}")
        np.testing.assert_array_equal(a, b)  # bit-identical


def test_terminate_on_nan_stops_at_first_nan_batch():
    x = np.ones((8, 2), "float32")
    y = np.ones((8, 1), "float32")
    y[5] = np.nan
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(
        x,
        y,
        epochs=5,
        batch_size=2,
        shuffle=False,
        verbose=0,
        callbacks=[keras.callbacks.TerminateOnNaN()],
    )
    assert len(history.history["loss"]) == 1
    assert model.stop_training


def test_check_finite_names_argument_index_and_value():
    x = np.zeros((3, 4), "float32")
    assert check_finite(x, "x") is x
    x[2, 1] = np.inf
    x[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"features .* inf at index \(2, 1\)"):
        check_finite(x, "features")
    with pytest.raises(ValueError, match=r"labels .* nan at index \(1,\)"):
        check_finite([1.0, float("nan")], "labels")
    assert check_finite(np.arange(3), "ids") is not None  # ints are finite
    with pytest.raises(TypeError, match="tokens"):
        check_finite(np.array(["a"]), "tokens")


_DETERMINISM = """
import keras, numpy as np
from refnn.training import set_seed

def train(seed):
    set_seed(seed, deterministic=True)
    x = np.random.normal(size=(64, 5)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="bce")
    model.fit(x, y, epochs=2, batch_size=8, shuffle=True, verbose=0)
    weights = np.concatenate([w.ravel() for w in model.get_weights()])
    keras.backend.clear_session()
    return weights

a, b, c = train(3), train(3), train(4)
assert np.array_equal(a, b), "same seed gave different weights"
assert not np.array_equal(a, c), "different seeds gave the same weights"
print("DETERMINISTIC")
"""


@pytest.mark.large
def test_set_seed_gives_bit_identical_weights():
    # In a subprocess: op determinism cannot be switched off again.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow"}
    proc = subprocess.run(
        [sys.executable, "-c", _DETERMINISM],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "DETERMINISTIC" in proc.stdout


def test_set_seed_invalid_raises():
    with pytest.raises(ValueError, match="seed"):
        set_seed(-1)
