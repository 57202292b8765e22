"""The malformed-request corpus (malformed_requests.json) against a server.

Every case must get TF Serving's error shape (a JSON object with exactly one
key, ``error``, a string) and the expected status and message; the server
must stay up, and a good request afterwards must still answer correctly.
"""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

# Real server subprocesses: slow, still run by make test.
pytestmark = pytest.mark.large


CORPUS = json.loads(
    (Path(__file__).parent / "malformed_requests.json").read_text()
)["cases"]


def _body(case):
    if "body_b64" in case:
        return base64.b64decode(case["body_b64"])
    if "body_repeat" in case:
        prefix, item, count, suffix = case["body_repeat"]
        return (prefix + item * count + suffix).encode()
    return case.get("body", "").encode()


def test_corpus_is_large_and_unique():
    names = [c["name"] for c in CORPUS]
    assert len(names) >= 100
    assert len(set(names)) == len(names)


def test_every_malformed_request_gets_a_tf_serving_error(server, http, loaded):
    failures = []
    for case in CORPUS:
        r = http.request(case["method"], case["path"], content=_body(case))
        try:
            body = r.json()
        except ValueError:
            body = None
        ok = (
            r.status_code == case["status"]
            and isinstance(body, dict)
            and list(body) == ["error"]
            and isinstance(body["error"], str)
            and case["error"] in body["error"]
        )
        if not ok:
            failures.append(
                f"{case['name']}: want {case['status']} "
                f"{case['error']!r}, got {r.status_code} {r.text[:300]}"
            )
        assert server.proc.poll() is None, f"server died at {case['name']}"
    assert not failures, "\n".join(failures)
    # Still up and still right.
    rows = np.array([[0.5, -1.0, 2.0, 0.0]], "float32")
    r = http.post("/v1/models/mlp:predict", json={"inputs": rows.tolist()})
    assert r.status_code == 200
    ref = loaded("mlp").signatures["serving_default"](
        features=tf.constant(rows)
    )
    np.testing.assert_allclose(
        r.json()["outputs"]["probabilities"],
        ref["probabilities"].numpy(),
        rtol=0,
        atol=1e-6,
    )
