"""Fixtures: tiny exports of every kind refnn writes, and running servers.

The servers are real ``refnn serve`` subprocesses on free loopback ports;
tests talk to them with an HTTP client (httpx) and the official
``tensorflow-serving-api`` gRPC stubs.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 120  # seconds: importing TF and loading on a busy machine
MLP_FEATURES = 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_mlp(base_dir, name="mlp", seed=0, version=None):
    import keras

    from refnn.export import export_savedmodel
    from refnn.models import MLP

    keras.utils.set_random_seed(seed)
    model = MLP(
        units=[8, 3],
        activation="relu",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
    )
    model(np.zeros((1, MLP_FEATURES), "float32"))
    return export_savedmodel(model, name, version=version, base_dir=base_dir)


def build_exports(base_dir):
    """Exports one tiny model of each kind under `base_dir`."""
    import keras

    from refnn.data.seq2seq_tasks import DATE_SOURCE_CHARS, DATE_TARGET_CHARS
    from refnn.data.text import make_sentiment
    from refnn.export import export_savedmodel
    from refnn.models import (
        GPT,
        BertClassifier,
        BertEncoder,
        RNNClassifier,
        Seq2Seq,
    )
    from refnn.text import WordTokenizer

    build_mlp(base_dir)
    keras.utils.set_random_seed(1)
    texts, _ = make_sentiment(32, seed=0)
    tok = WordTokenizer.from_corpus(texts)
    clf = RNNClassifier(
        tok.vocabulary_size,
        2,
        embedding_dim=6,
        units=5,
        vocabulary=tok.vocabulary[5:],
    )
    clf(tok.tokenize(texts[:2]))
    export_savedmodel(clf, "text_classifier", base_dir=base_dir)

    s2s = Seq2Seq(
        DATE_SOURCE_CHARS,
        DATE_TARGET_CHARS,
        embedding_dim=8,
        units=16,
        max_decode_length=6,
    )
    export_savedmodel(s2s, "seq2seq", base_dir=base_dir)

    gpt = GPT(
        vocabulary_size=23,
        max_length=24,
        num_layers=1,
        hidden_dim=16,
        num_heads=2,
        intermediate_dim=32,
    )
    gpt(np.zeros((1, 4), "int32"))
    export_savedmodel(gpt, "gpt", base_dir=base_dir)

    encoder = BertEncoder(
        vocabulary_size=30,
        max_length=16,
        num_layers=1,
        hidden_dim=16,
        num_heads=2,
        intermediate_dim=32,
        dropout=0.0,
    )
    encoder.build()
    bert = BertClassifier(encoder, num_classes=2, dropout=0.0)
    bert(np.full((1, 4), 5, "int32"))
    export_savedmodel(bert, "bert", base_dir=base_dir)

    # A model whose newest version is corrupt: version 1 keeps serving.
    shutil.copytree(Path(base_dir) / "mlp" / "1", Path(base_dir) / "half" / "1")
    bad = Path(base_dir) / "half" / "2"
    bad.mkdir()
    (bad / "saved_model.pb").write_bytes(b"\x08\x01garbage, not a proto")


@pytest.fixture(autouse=True)
def _seed_and_clear():
    """Overrides the suite's per-test `clear_session` (about a second each
    here): these tests build their Keras models once, per session."""
    yield


@pytest.fixture(scope="session")
def exports(tmp_path_factory):
    base = tmp_path_factory.mktemp("savedmodels")
    build_exports(base)
    return base


class Server:
    """A ``refnn serve`` subprocess; `url` and `grpc_target` to talk to it."""

    def __init__(self, args, wait_model, log_path):
        self.rest_port = free_port()
        self.grpc_port = free_port()
        self.url = f"http://127.0.0.1:{self.rest_port}"
        self.grpc_target = f"127.0.0.1:{self.grpc_port}"
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "refnn.cli",
                "serve",
                *map(str, args),
                "--rest-api-port",
                str(self.rest_port),
                "--port",
                str(self.grpc_port),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait(wait_model)

    def _wait(self, model):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log()}")
            try:
                r = httpx.get(f"{self.url}/v1/models/{model}", timeout=2)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(
            f"server not ready in {STARTUP_TIMEOUT}s:\n{self.log()}"
        )

    def log(self):
        if not self._log.closed:
            self._log.flush()
        return Path(self.log_path).read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the server; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def server(exports, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "server.log"
    srv = Server([exports, "--max-request-bytes", "100000"], "mlp", log)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def helpers():
    """`Server` and `build_mlp` for tests that start their own server."""
    return SimpleNamespace(Server=Server, build_mlp=build_mlp)


@pytest.fixture(scope="session")
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def loaded(exports):
    """In-process reference: each export loaded with plain TensorFlow."""
    import tensorflow as tf

    cache = {}

    def load(name, version=1):
        key = (name, version)
        if key not in cache:
            cache[key] = tf.saved_model.load(str(exports / name / str(version)))
        return cache[key]

    return load
