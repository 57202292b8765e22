"""Parity of an export reloaded in a fresh process with plain TensorFlow.

`check_parity` proves an export is servable by stock TF Serving: a new
``python`` process that imports only TensorFlow and NumPy (never refnn,
keras_hub or tensorflow_text) loads the SavedModel, runs the endpoint, and
its outputs must equal the expected ones. Several cases run in one process so
tests pay TensorFlow's start-up once.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

FORBIDDEN_MODULES = ("refnn", "keras_hub", "keras_nlp", "tensorflow_text")

# Runs as `python -c` in a temp cwd: nothing from the repo is importable.
_WORKER = r"""
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf

work, path, endpoints = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
loaded = tf.saved_model.load(path)
for endpoint in endpoints:
    if endpoint not in loaded.signatures:
        print(json.dumps({"error": "unknown endpoint %r; the export has %s"
                          % (endpoint, sorted(loaded.signatures))}))
        sys.exit(3)
for i, endpoint in enumerate(endpoints):
    fn = loaded.signatures[endpoint]
    specs = fn.structured_input_signature[1]
    with np.load(os.path.join(work, "in_%d.npz" % i)) as data:
        # Cast to the signature's dtypes, as TF Serving does with JSON.
        inputs = {
            k: tf.constant(data[k], specs[k].dtype if k in specs else None)
            for k in data.files
        }
    out = fn(**inputs)
    arrays = {}
    for k, v in out.items():
        a = v.numpy()
        if a.dtype == object:
            a = a.astype(bytes)
        arrays[k] = a
    np.savez(os.path.join(work, "out_%d.npz" % i), **arrays)
bad = sorted(m for m in FORBIDDEN if m in sys.modules)
print(json.dumps({"forbidden_loaded": bad}))
sys.exit(4 if bad else 0)
"""


def run_endpoint_fresh(path, inputs_list, endpoint="serving_default"):
    """Runs `endpoint` of the export at `path` in a fresh plain-TF process.

    Args:
        path: the SavedModel (version) folder.
        inputs_list: a list of dicts ``{input_name: np.ndarray}``.
        endpoint: the signature name, or a list of names (one per case).

    Returns:
        A list (one per inputs dict) of dicts ``{output_name: np.ndarray}``.

    Raises:
        AssertionError: the process failed, or it had imported a forbidden
            module (refnn, keras_hub, keras_nlp, tensorflow_text).

    Example (not run here: it starts a new Python with TensorFlow):

    ```python
    path = export_savedmodel(model, "demo", base_dir="/tmp/sm")
    (out,) = run_endpoint_fresh(path, [{"features": np.ones((2, 4))}])
    out["outputs"].shape  # (2, ...) as model.predict gives
    ```
    """
    path = Path(path).resolve()
    if not (path / "saved_model.pb").exists():
        raise FileNotFoundError(f"no saved_model.pb in {str(path)!r}.")
    with tempfile.TemporaryDirectory(prefix="refnn-parity-") as work:
        for i, inputs in enumerate(inputs_list):
            if not isinstance(inputs, dict):
                raise TypeError(
                    f"inputs must be a dict {{input_name: array}}, got "
                    f"{type(inputs).__name__}."
                )
            np.savez(
                os.path.join(work, f"in_{i}.npz"),
                **{k: np.asarray(v) for k, v in inputs.items()},
            )
        endpoints = (
            [endpoint] * len(inputs_list)
            if isinstance(endpoint, str)
            else list(endpoint)
        )
        if len(endpoints) != len(inputs_list):
            raise ValueError(
                f"endpoint must be a name or one name per case, got "
                f"{len(endpoints)} names for {len(inputs_list)} cases."
            )
        source = f"FORBIDDEN = {FORBIDDEN_MODULES!r}\n" + _WORKER
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                source,
                work,
                str(path),
                json.dumps(endpoints),
            ],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise AssertionError(
                f"fresh-process reload of {path} (endpoint {endpoint!r}) "
                f"failed with exit code {proc.returncode}:\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        results = []
        for i in range(len(inputs_list)):
            with np.load(os.path.join(work, f"out_{i}.npz")) as data:
                results.append({k: data[k] for k in data.files})
        last = proc.stdout.strip().splitlines()[-1]
        assert json.loads(last)["forbidden_loaded"] == []
    return results


def _compare(actual, expected, atol, rtol, where):
    missing = sorted(set(expected) - set(actual))
    if missing:
        raise AssertionError(
            f"{where}: outputs {missing} missing from the reloaded export "
            f"(it has {sorted(actual)})."
        )
    for key, want in expected.items():
        want = np.asarray(want)
        got = actual[key]
        if got.shape != want.shape:
            raise AssertionError(
                f"{where}: output {key!r} has shape {got.shape} after "
                f"reload, expected {want.shape}."
            )
        if want.dtype.kind in "fc":
            np.testing.assert_allclose(
                got,
                want,
                atol=atol,
                rtol=rtol,
                err_msg=f"{where}: output {key!r} differs after reload",
            )
        else:
            if want.dtype.kind == "U":
                want = np.char.encode(want, "utf-8")
            elif want.dtype.kind == "O":
                want = want.astype(bytes)
            np.testing.assert_array_equal(
                got,
                want,
                err_msg=f"{where}: output {key!r} differs after reload",
            )


def check_parity(
    path, inputs, expected, endpoint="serving_default", atol=1e-5, rtol=1e-5
):
    """Asserts a fresh plain-TF reload of `path` reproduces `expected`.

    Args:
        path: the SavedModel version folder.
        inputs: a dict ``{input_name: np.ndarray}``, or a list of such dicts
            (all run in one process).
        expected: a dict ``{output_name: np.ndarray}`` (a list when `inputs`
            is a list). Only the named outputs are compared.
        endpoint: the signature name (or, with a list of cases, a list of
            names, one per case).
        atol: absolute tolerance for float outputs (others must be equal).
        rtol: relative tolerance for float outputs.

    Returns:
        The reloaded outputs (a dict, or a list of dicts).

    Raises:
        AssertionError: with the endpoint, case and output that differ.

    Example:

    ```python
    path = export_savedmodel(model, "demo", base_dir="/tmp/sm")
    x = np.ones((2, 4), "float32")
    check_parity(path, {"features": x}, {"outputs": model.predict(x)})
    ```
    """
    single = isinstance(inputs, dict)
    inputs_list = [inputs] if single else list(inputs)
    expected_list = [expected] if single else list(expected)
    if len(inputs_list) != len(expected_list):
        raise ValueError(
            f"inputs and expected must have the same length, got "
            f"{len(inputs_list)} and {len(expected_list)}."
        )
    actual = run_endpoint_fresh(path, inputs_list, endpoint=endpoint)
    names = [endpoint] * len(actual) if isinstance(endpoint, str) else endpoint
    for i, (got, want) in enumerate(zip(actual, expected_list)):
        _compare(got, want, atol, rtol, f"endpoint {names[i]!r}, case {i}")
    return actual[0] if single else actual
