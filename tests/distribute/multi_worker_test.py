"""Two MultiWorkerMirroredStrategy workers on 127.0.0.1 equal one process;
a worker killed with SIGKILL, then the job restarted, resumes from the
per-worker checkpoints and ends equal too."""

import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

pytestmark = [
    pytest.mark.large,
    # Run alone by `make test` (after the parallel run): with the CPU
    # oversubscribed (three busy loops on 2 cores) one 2-worker run in two
    # ended 0.019 away from the 1-process run; the cause is not found yet.
    pytest.mark.serial,
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="tf.distribute strategies exist only on the TensorFlow backend",
    ),
]
SCRIPT = os.path.join(HERE, "multi_worker_run.py")
TOTAL_STEPS = 12  # 48 rows / global batch 8, 2 epochs


def _reference(tmp_path, names):
    """The same training on one replica, in a fresh process like the
    workers (not in this test process, whose earlier tests may have left
    state behind)."""
    out = tmp_path / "single.npz"
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    env.pop("TF_CONFIG", None)
    args = [sys.executable, SCRIPT, str(out), "--single"]
    subprocess.run(
        [*args, "--models", ",".join(names)], env=env, check=True, timeout=400
    )
    with np.load(out) as single:
        assert int(single["replicas"]) == 1
        return dict(single)


def _assert_weights_equal(got, expected, name):
    keys = [k for k in expected if k.startswith(f"{name}/w")]
    assert keys
    for key in keys:
        np.testing.assert_allclose(
            got[key], expected[key], rtol=0, atol=1e-6, err_msg=key
        )


def _workers(args, env_extra=None):
    from refnn.distribute import free_ports, local_tf_config

    ports = free_ports(2)
    procs = []
    for index in range(2):
        env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
        env["TF_CONFIG"] = local_tf_config(ports, index)
        procs.append(
            subprocess.Popen(
                [sys.executable, SCRIPT, *args],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


def _wait(procs, timeout):
    deadline = time.monotonic() + timeout
    try:
        for p in procs:
            p.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return [p.returncode for p in procs]


def test_two_workers_equal_one_process(tmp_path):
    from refnn.distribute import launch_local_workers

    out = tmp_path / "two.npz"
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    code = launch_local_workers(
        [sys.executable, SCRIPT, str(out)], 2, timeout=400, env=env
    )
    assert code == 0
    expected = _reference(tmp_path, ["mlp", "gpt"])
    with np.load(out) as got:
        assert int(got["replicas"]) == 2
        for name in ("mlp", "gpt"):
            _assert_weights_equal(got, expected, name)


def test_killed_worker_resumes_from_its_checkpoints(tmp_path):
    out, ckpt = tmp_path / "resumed.npz", tmp_path / "ckpt"
    args = [str(out), "--models", "mlp", "--checkpoint-dir", str(ckpt)]
    procs = _workers([*args, "--step-delay", "1.0"])
    worker_1 = ckpt / "mlp" / "worker-1"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            done = [
                int(n[5:-4])
                for n in (os.listdir(worker_1) if worker_1.exists() else [])
                if n.startswith("step-") and n.endswith(".npz")
            ]
            if done and max(done) >= 3:
                break
            assert all(p.poll() is None for p in procs), "a worker died"
            time.sleep(0.1)
        else:
            pytest.fail("no checkpoint of step 3 within 300 s")
        procs[1].send_signal(signal.SIGKILL)  # mid-run: 12 steps, 1 s each
    finally:
        codes = _wait(procs, timeout=60)  # worker 0 times out or is killed
    assert codes[1] == -signal.SIGKILL
    assert not out.exists()  # the first run did not finish
    assert _wait(_workers(args), timeout=400) == [0, 0]
    expected = _reference(tmp_path, ["mlp"])
    with np.load(out) as got:
        assert 3 < int(got["mlp/first_step"]) < TOTAL_STEPS  # resumed
        assert int(got["mlp/last_step"]) == TOTAL_STEPS
        _assert_weights_equal(got, expected, "mlp")
