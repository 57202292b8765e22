"""``refnn predict`` shares the serving contract: same JSON, clear errors."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from refnn.cli import main

# Real server subprocesses: slow, still run by make test.
pytestmark = pytest.mark.large


def _run(capsys, *argv):
    status = main(["predict", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_signature_name_in_json_is_honoured(exports, tmp_path, capsys):
    request = tmp_path / "gen.json"
    request.write_text(
        json.dumps(
            {
                "signature_name": "generate",
                "inputs": {"prompt_ids": [[1, 2]], "max_new_tokens": 3},
            }
        )
    )
    status, out, err = _run(capsys, exports / "gpt", "--input", request)
    assert status == 0, err
    ref = tf.saved_model.load(str(exports / "gpt" / "1")).signatures[
        "generate"
    ](prompt_ids=tf.constant([[1, 2]]), max_new_tokens=tf.constant(3))
    assert json.loads(out) == {"outputs": ref["token_ids"].numpy().tolist()}
    status, _, err = _run(
        capsys, exports / "gpt", "--input", request, "--endpoint", "x"
    )
    assert status == 2
    assert "disagree" in err


def test_same_answer_as_the_server(exports, tmp_path, capsys, http):
    body = {"instances": [[0.1, 0.2, 0.3, 0.4], [1.0, 2.0, 3.0, 4.0]]}
    request = tmp_path / "rows.json"
    request.write_text(json.dumps(body))
    status, out, err = _run(capsys, exports / "mlp" / "1", "--input", request)
    assert status == 0, err
    assert (
        json.loads(out) == http.post("/v1/models/mlp:predict", json=body).json()
    )


@pytest.mark.parametrize(
    "damage,message",
    [
        ("empty", "saved_model.pb or version folders"),
        ("truncated", "cannot load the SavedModel"),
        ("garbage", "cannot load the SavedModel"),
        ("no_variables", "cannot load the SavedModel"),
    ],
)
def test_broken_export_is_one_error_line(
    exports, tmp_path, capsys, damage, message
):
    target = tmp_path / "m" / "1"
    shutil.copytree(exports / "mlp" / "1", target)
    pb = target / "saved_model.pb"
    if damage == "empty":  # a version folder with nothing in it yet
        shutil.rmtree(target)
        target.mkdir()
    elif damage == "truncated":
        pb.write_bytes(pb.read_bytes()[: len(pb.read_bytes()) // 2])
    elif damage == "garbage":
        pb.write_bytes(b"not a protocol buffer at all")
    else:
        shutil.rmtree(target / "variables")
    request = tmp_path / "rows.json"
    request.write_text('{"instances": [[1, 2, 3, 4]]}')
    status, out, err = _run(capsys, target, "--input", request)
    assert status == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "model,payload,message",
    [
        (
            "mlp",
            {"instances": [[1, 2, 3, 4], [1, 2]]},
            "input 'features': instance 1 has shape [2]",
        ),
        (
            "mlp",
            {"instances": [[1, 2, None, 4]]},
            "input 'features' instance 0[2]: JSON Value: null",
        ),
        (
            "gpt",
            '{"instances": [[1, 2], [3, NaN]]}',
            "input 'token_ids' instance 1[1]: JSON Value: NaN",
        ),
        (
            "gpt",
            '{"inputs": {"token_ids": [[1, Infinity]]}}',
            "input 'token_ids'[0][1]: JSON Value: Infinity",
        ),
        ("gpt", {"instances": [[1, -1]]}, "token_ids must hold token ids"),
        ("mlp", {"rows": [[1, 2]]}, "Missing 'inputs' or 'instances' key"),
        ("mlp", {"instances": [[1, 2]]}, "must have shape [-1,4]"),
    ],
)
def test_bad_json_input_names_input_row_and_value(
    exports, tmp_path, capsys, model, payload, message
):
    request = tmp_path / "in.json"
    text = payload if isinstance(payload, str) else json.dumps(payload)
    request.write_text(text)
    status, _, err = _run(capsys, exports / model, "--input", request)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_npy_inputs_and_garbage(exports, tmp_path, capsys):
    rows = np.random.default_rng(0).normal(size=(2, 4)).astype("float64")
    np.save(tmp_path / "rows.npy", rows)
    status, out, err = _run(
        capsys, exports / "mlp", "--input", tmp_path / "rows.npy"
    )
    assert status == 0, err
    ref = tf.saved_model.load(str(exports / "mlp" / "1")).signatures[
        "serving_default"
    ](features=tf.constant(rows, tf.float32))
    got = [p["probabilities"] for p in json.loads(out)["predictions"]]
    np.testing.assert_allclose(got, ref["probabilities"].numpy(), atol=1e-6)
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    status, _, err = _run(
        capsys, exports / "mlp", "--input", tmp_path / "bad.npy"
    )
    assert status == 2
    assert "is not a readable .npy file" in err
    np.save(tmp_path / "floats.npy", np.array([[1.5, 2.0]]))
    status, _, err = _run(
        capsys, exports / "gpt", "--input", tmp_path / "floats.npy"
    )
    assert status == 2
    assert "input 'token_ids' takes integers (int32), got dtype float64" in err
