"""SIGTERM: the server stops accepting but finishes the requests in flight."""

import threading
import time

import httpx
import pytest

# Real server subprocesses: slow, still run by make test.
pytestmark = pytest.mark.large


ROW = [[0.1, 0.2, 0.3, 0.4]]


def test_request_in_flight_finishes_after_sigterm(exports, helpers, tmp_path):
    # A 3 s batch timeout holds a lone request in the server long enough
    # to send SIGTERM while it is in flight.
    srv = helpers.Server(
        [
            exports / "mlp",
            "--enable-batching",
            "--batch-timeout-micros",
            "3000000",
            "--shutdown-grace-seconds",
            "30",
        ],
        "mlp",
        tmp_path / "server.log",
    )
    result = {}

    def client():
        t0 = time.monotonic()
        r = httpx.post(
            f"{srv.url}/v1/models/mlp:predict",
            json={"instances": ROW},
            timeout=60,
        )
        result["status"] = r.status_code
        result["body"] = r.json()
        result["seconds"] = time.monotonic() - t0

    thread = threading.Thread(target=client)
    try:
        thread.start()
        time.sleep(1.0)  # the request is now waiting in the batcher
        assert srv.stop() == 0
    finally:
        thread.join(timeout=60)
        srv.stop()
    assert result["status"] == 200, result
    assert len(result["body"]["predictions"][0]["probabilities"]) == 3
    assert result["seconds"] >= 2.5  # it was held, then answered
    assert "refnn serve: stopped" in srv.log()
