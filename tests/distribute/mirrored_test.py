"""Explicit gradients under a 2-device MirroredStrategy equal 1 device."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.distribute strategies exist only on the TensorFlow backend",
)


@pytest.mark.large
def test_two_devices_equal_one_device(tmp_path):
    """Perceptron, LogisticRegression, MLP: 6 steps on 1 vs 2 replicas.

    Runs in a subprocess: the two logical CPUs must be configured before
    TensorFlow initialises.
    """
    out = tmp_path / "mirrored.npz"
    subprocess.run(
        [sys.executable, os.path.join(HERE, "mirrored_run.py"), str(out)],
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        check=True,
        timeout=300,
        capture_output=True,
    )
    with np.load(out) as results:
        assert int(results["replicas"]) == 2
        ones = [k for k in results.files if "/one/" in k]
        assert len(ones) == 4 + 3 + 5  # weights and logs of the 3 models
        for key in ones:
            one, two = results[key], results[key.replace("/one/", "/two/")]
            if key.startswith("perceptron/") and "log_" in key:
                np.testing.assert_array_equal(two, one, err_msg=key)
            else:
                np.testing.assert_allclose(
                    two, one, rtol=0, atol=1e-6, err_msg=key
                )
        # the perceptron made mistakes, so the updates were exercised
        assert results["perceptron/one/log_mistakes"][0] > 0
