"""Batcher: concurrent rows run together, each caller gets its own rows."""

import threading
import time

import numpy as np
import pytest

from refnn.serving.batching import Batcher
from refnn.serving.contract import InputSpec
from refnn.serving.errors import ServingError


class FakeSignature:
    """Doubles `x`; rejects negative rows (like a graph-side check)."""

    name = "serving_default"
    inputs = {"x": InputSpec("float32", (None, 2))}

    def __init__(self):
        self.calls = []

    def __call__(self, arrays):
        x = arrays["x"]
        self.calls.append(len(x))
        time.sleep(0.01)
        if (x < 0).any():
            raise ServingError("INVALID_ARGUMENT", "x must be >= 0")
        return {"y": x * 2, "n": np.full(len(x), len(x))}


def _run_concurrently(batcher, signature, requests):
    results = [None] * len(requests)

    def call(i):
        try:
            results[i] = batcher.run("servable", signature, {"x": requests[i]})
        except ServingError as e:
            results[i] = e

    threads = [
        threading.Thread(target=call, args=(i,)) for i in range(len(requests))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_concurrent_requests_are_joined_and_split_back():
    sig = FakeSignature()
    batcher = Batcher(max_batch_size=64, batch_timeout_micros=200_000)
    requests = [np.full((1 + i % 3, 2), i, "float32") for i in range(12)]
    results = _run_concurrently(batcher, sig, requests)
    for req, res in zip(requests, results):
        np.testing.assert_array_equal(res["y"], req * 2)
    assert sum(sig.calls) == sum(len(r) for r in requests)
    assert len(sig.calls) < len(requests)
    assert batcher.batches_run >= 1


def test_one_bad_request_does_not_fail_the_others():
    sig = FakeSignature()
    batcher = Batcher(max_batch_size=64, batch_timeout_micros=200_000)
    requests = [np.full((1, 2), i, "float32") for i in range(6)]
    requests[3] = np.full((1, 2), -1, "float32")
    results = _run_concurrently(batcher, sig, requests)
    assert isinstance(results[3], ServingError)
    for i in (0, 1, 2, 4, 5):
        np.testing.assert_array_equal(results[i]["y"], requests[i] * 2)


def test_no_batch_dimension_or_full_batch_runs_alone():
    sig = FakeSignature()
    batcher = Batcher(max_batch_size=4, batch_timeout_micros=10_000_000)
    out = batcher.run("s", sig, {"x": np.ones((4, 2), "float32")})
    np.testing.assert_array_equal(out["y"], np.full((4, 2), 2.0))
    assert sig.calls == [4]


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_batch_size"):
        Batcher(max_batch_size=0)
    with pytest.raises(ValueError, match="batch_timeout_micros"):
        Batcher(batch_timeout_micros=-1)
