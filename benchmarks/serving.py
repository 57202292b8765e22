"""`refnn serve` throughput and latency: REST and gRPC, batching off and on.

The export is a `refnn.models.MLP` (64 -> 64 -> 10 softmax, the digits
shape); each request is one row (batch 1). For each server setting
(``--enable-batching`` off, then on) a real ``refnn serve`` subprocess is
started on loopback ports and driven for `--seconds` by 1, 16 and 64
concurrent clients (threads in this process, each with its own keep-alive
HTTP connection; the gRPC clients share one channel), over REST (httpx) and
gRPC (the official ``PredictionServiceStub``). The anchor is the same
SavedModel's ``serving_default`` called in-process (no server, no network).

Reported per row: requests/s, p50 and p99 latency (ms). Targets (DESIGN.md):
REST batch-1 p50 under 5 ms with one client; gRPC faster than REST. The
clients run on the same cores as the server, so the figures are a lower
bound for a server with the machine to itself.

Run from the repository root::

    python benchmarks/serving.py            # 5 s per cell
    python benchmarks/serving.py --quick    # 1 s per cell, 1 and 16 clients
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402  (sets KERAS_BACKEND before keras is imported)
import grpc  # noqa: E402
import httpx  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import (  # noqa: E402
    predict_pb2,
    prediction_service_pb2_grpc,
)

from refnn.export import export_savedmodel  # noqa: E402
from refnn.models import MLP  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentiles(latencies):
    ms = np.asarray(latencies) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _drive(call_factory, clients, seconds):
    """Runs `clients` threads calling for `seconds`; (req/s, p50, p99)."""
    latencies, errors = [], []
    lock = threading.Lock()
    window = {}

    def open_window():  # the clock starts when every client is ready
        window["start"] = time.perf_counter()
        window["stop"] = window["start"] + seconds

    barrier = threading.Barrier(clients, action=open_window)

    def worker():
        call = call_factory()
        local = []
        barrier.wait()
        while time.perf_counter() < window["stop"]:
            t0 = time.perf_counter()
            try:
                call()
            except Exception as e:  # counted, reported
                errors.append(repr(e))
                continue
            local.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - window["start"]
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests: {errors[:3]}")
    return (len(latencies) / elapsed, *_percentiles(latencies))


class _Server:
    def __init__(self, base, batching):
        self.rest, self.grpc = _free_port(), _free_port()
        args = [
            sys.executable,
            "-m",
            "refnn.cli",
            "serve",
            str(base),
            "--rest-api-port",
            str(self.rest),
            "--port",
            str(self.grpc),
        ]
        if batching:
            args += ["--enable-batching", "--batch-timeout-micros", "500"]
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{self.rest}/v1/models/mlp"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError("refnn serve did not start in 180 s")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    seconds = args.seconds or (1.0 if args.quick else 5.0)
    client_counts = (1, 16) if args.quick else (1, 16, 64)

    keras.utils.set_random_seed(0)
    model = MLP(units=[64, 10], activation="relu", output_activation="softmax")
    model(np.zeros((1, 64), "float32"))
    base = Path(tempfile.mkdtemp(prefix="refnn-serving-bench-"))
    export_savedmodel(model, "mlp", base_dir=base)
    row = np.random.default_rng(0).uniform(size=(1, 64)).astype("float32")
    body = {"instances": row.tolist()}

    rows = []
    fn = tf.saved_model.load(str(base / "mlp" / "1")).signatures[
        "serving_default"
    ]
    x = tf.constant(row)
    rps, p50, p99 = _drive(lambda: lambda: fn(features=x), 1, seconds)
    rows.append(
        {
            "API": "in-process SavedModel",
            "clients": 1,
            "batching": "-",
            "req/s": rps,
            "p50 ms": p50,
            "p99 ms": p99,
        }
    )

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "mlp"
    request.inputs["features"].CopyFrom(tf.make_tensor_proto(row))
    for batching in (False, True):
        server = _Server(base, batching)
        try:
            url = f"http://127.0.0.1:{server.rest}/v1/models/mlp:predict"
            channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc}")
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

            def rest_factory():
                client = httpx.Client(timeout=60)

                def call():
                    r = client.post(url, json=body)
                    if r.status_code != 200:
                        raise RuntimeError(r.text)

                return call

            def grpc_factory():
                return lambda: stub.Predict(request, timeout=60)

            for name, factory in (
                ("REST", rest_factory),
                ("gRPC", grpc_factory),
            ):
                _drive(factory, 1, min(seconds, 1.0))  # warm up
                for clients in client_counts:
                    rps, p50, p99 = _drive(factory, clients, seconds)
                    rows.append(
                        {
                            "API": name,
                            "clients": clients,
                            "batching": "on" if batching else "off",
                            "req/s": rps,
                            "p50 ms": p50,
                            "p99 ms": p99,
                        }
                    )
                    print(rows[-1], flush=True)
            channel.close()
        finally:
            server.stop()

    print()
    print(f"Machine: {common.machine_info()}")
    print(f"{seconds:g} s per cell; batch-1 MLP 64-64-10; clients in-process")
    print()
    print(
        common.markdown_table(
            rows, ["API", "clients", "batching", "req/s", "p50 ms", "p99 ms"]
        )
    )


if __name__ == "__main__":
    main()
