"""Versions: TF Serving's config file, labels, hot reload under traffic,
request batching, and a graceful SIGTERM."""

import shutil
import threading
import time

import httpx
import numpy as np
import pytest
import tensorflow as tf

# Real server subprocesses: slow, still run by make test.
pytestmark = pytest.mark.large


ROW = [[0.3, -0.2, 1.5, 0.7]]


@pytest.fixture(scope="module")
def live(tmp_path_factory, helpers):
    base = tmp_path_factory.mktemp("live")
    helpers.build_mlp(base, seed=0)
    config = base / "models.config"
    config.write_text(
        f"""
model_config_list {{
  config {{
    name: "live"
    base_path: "{base / "mlp"}"
    model_platform: "tensorflow"
  }}
  config {{
    name: "pinned"
    base_path: "mlp"
    model_version_policy {{ specific {{ versions: 1 }} }}
    version_labels {{ key: "stable" value: 1 }}
  }}
}}
"""
    )
    srv = helpers.Server(
        [
            "--model-config-file",
            config,
            "--file-system-poll-wait-seconds",
            "0.3",
            "--enable-batching",
            "--batch-timeout-micros",
            "2000",
            "--access-log",
        ],
        "live",
        base / "server.log",
    )
    yield base, srv, helpers
    srv.stop()


def _probabilities(base, version):
    loaded = tf.saved_model.load(str(base / "mlp" / str(version)))
    out = loaded.signatures["serving_default"](features=tf.constant(ROW))
    return out["probabilities"].numpy()[0]


def _switch_under_traffic(srv, change, old, new, clients=4):
    """Runs `change()` while `clients` threads predict; returns the answers
    seen, in order, after checking none failed and each was `old` or
    `new` (never a wrong one), the last ones `new`."""
    seen, failures = [], []
    stop = threading.Event()

    def client():
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            while not stop.is_set():
                r = c.post("/v1/models/live:predict", json={"instances": ROW})
                if r.status_code != 200:
                    failures.append(r.text)
                    continue
                seen.append(
                    np.array(r.json()["predictions"][0]["probabilities"])
                )

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        change()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if seen and np.allclose(seen[-1], new, atol=1e-6):
                break
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not failures, failures[:3]
    assert len(seen) > 10
    is_old = [np.allclose(s, old, atol=1e-6) for s in seen]
    is_new = [np.allclose(s, new, atol=1e-6) for s in seen]
    assert all(a or b for a, b in zip(is_old, is_new))  # never a wrong answer
    assert is_old[0] and is_new[-1]
    # Once the new version answers, the old one stops (requests already in
    # flight at the switch aside).
    assert all(is_new[is_new.index(True) + 5 * clients :])


def test_hot_reload_without_failed_requests(live):
    base, srv, helpers = live
    v1 = _probabilities(base, 1)
    state = {}

    def publish():  # writes mlp/2 atomically, as export_savedmodel does
        helpers.build_mlp(base, seed=1)
        state["v2"] = _probabilities(base, 2)

    # v2 is only known once exported: compare against it afterwards.
    helpers_v2 = _probabilities_of_seed(helpers, base, seed=1)
    _switch_under_traffic(srv, publish, v1, helpers_v2)
    np.testing.assert_allclose(state["v2"], helpers_v2, rtol=0, atol=1e-6)
    assert not np.allclose(v1, helpers_v2, atol=1e-3)
    status = httpx.get(f"{srv.url}/v1/models/live").json()
    assert status["model_version_status"][0]["version"] == "2"
    assert status["model_version_status"][0]["state"] == "AVAILABLE"


def test_removed_version_is_unloaded_without_failed_requests(live):
    base, srv, helpers = live
    v1, v2 = _probabilities(base, 1), _probabilities(base, 2)
    _switch_under_traffic(
        srv, lambda: shutil.rmtree(base / "mlp" / "2"), v2, v1
    )
    status = httpx.get(f"{srv.url}/v1/models/live").json()
    assert [s["version"] for s in status["model_version_status"]] == ["1"]


def _probabilities_of_seed(helpers, base, seed):
    """The answer a model exported with `seed` gives (exported elsewhere)."""
    path = helpers.build_mlp(base / "elsewhere", seed=seed)
    loaded = tf.saved_model.load(str(path))
    out = loaded.signatures["serving_default"](features=tf.constant(ROW))
    return out["probabilities"].numpy()[0]


def test_specific_policy_and_label(live):
    base, srv, helpers = live
    v1 = _probabilities(base, 1)
    for path in ("/v1/models/pinned", "/v1/models/pinned/labels/stable"):
        r = httpx.post(f"{srv.url}{path}:predict", json={"instances": ROW})
        assert r.status_code == 200, r.text
        got = r.json()["predictions"][0]["probabilities"]
        np.testing.assert_allclose(got, v1, rtol=0, atol=1e-6)
    r = httpx.get(f"{srv.url}/v1/models/pinned/labels/stable")
    assert r.json()["model_version_status"][0]["version"] == "1"


def test_batched_concurrent_requests_get_their_own_rows(live):
    base, srv, helpers = live
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(24, 4)).astype("float32")
    loaded = tf.saved_model.load(str(base / "mlp" / "1"))
    want = loaded.signatures["serving_default"](features=tf.constant(rows))
    want = want["probabilities"].numpy()
    got = [None] * len(rows)

    def client(i):
        r = httpx.post(
            f"{srv.url}/v1/models/pinned:predict",
            json={"instances": rows[i : i + 1].tolist()},
            timeout=60,
        )
        got[i] = r.json()["predictions"][0]["probabilities"]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    np.testing.assert_allclose(np.array(got), want, rtol=0, atol=1e-6)


def test_sigterm_stops_gracefully(live):
    base, srv, helpers = live
    assert srv.stop() == 0
    log = srv.log()
    assert "refnn serve: stopped" in log
    assert '"path": "/v1/models/live:predict"' in log  # the access log
