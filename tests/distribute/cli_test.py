"""`refnn train --workers N` and `--mixed-precision`."""

import json
import os
import subprocess
import sys

import keras
import pytest

from refnn.cli import main

TF_ONLY = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the CLI's multi-worker training uses tf.distribute",
)


@pytest.fixture
def restore_policy():
    yield
    keras.config.set_dtype_policy("float32")


def _last_json(text):
    return json.loads(text.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--workers", "0"], "--workers must be a positive integer, got 0"),
        (
            ["--workers", "2", "--batch-size", "33"],
            "--batch-size must divide by --workers, got 33 and 2",
        ),
    ],
)
def test_bad_worker_arguments_are_rejected(extra, message, capsys):
    argv = ["train", "mlp", "--dataset", "blobs", "--units", "4", *extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_mixed_precision_trains_with_a_float32_head(capsys, restore_policy):
    argv = ["train", "mlp", "--dataset", "blobs", "--units", "8"]
    argv += ["--epochs", "2", "--mixed-precision", "bfloat16"]
    assert main(argv) == 0
    assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert _last_json(capsys.readouterr().out)["test_accuracy"] > 0.9


@TF_ONLY
@pytest.mark.large
def test_two_local_workers_train_together():
    script = os.path.join(os.path.dirname(sys.executable), "refnn")
    argv = [script, "train", "perceptron", "--dataset", "blobs"]
    argv += ["--epochs", "2", "--batch-size", "16", "--workers", "2"]
    done = subprocess.run(
        argv,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "starting 2 workers on 127.0.0.1" in done.stdout
    result = _last_json(done.stdout)
    assert result["workers"] == 2
    assert result["test_accuracy"] > 0.9
