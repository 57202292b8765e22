"""REST API of ``refnn serve`` against TF Serving's contract (api_rest.md).

Every answer is compared with the same export loaded in-process with plain
TensorFlow (`tf.saved_model.load`), and the JSON shapes with TF Serving's
documented ones.
"""

import base64
import json

import numpy as np
import pytest
import tensorflow as tf

# Real server subprocesses: slow, still run by make test.
pytestmark = pytest.mark.large


ROWS = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, -2.0, 0.5, 3.0]], "float32")


def _reference(loaded, name, signature="serving_default", **inputs):
    fn = loaded(name).signatures[signature]
    return {k: v.numpy() for k, v in fn(**inputs).items()}


def test_model_status_is_tf_servings(http):
    r = http.get("/v1/models/mlp")
    assert r.status_code == 200
    assert r.json() == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }
    assert http.get("/v1/models/mlp/versions/1").json() == r.json()
    assert r.headers["content-type"] == "application/json"


def test_corrupt_version_reported_while_older_serves(http):
    status = http.get("/v1/models/half").json()["model_version_status"]
    assert [s["version"] for s in status] == ["2", "1"]
    assert status[0]["state"] == "END"
    assert status[0]["status"]["error_code"] == "DATA_LOSS"
    assert "SavedModel" in status[0]["status"]["error_message"]
    assert status[1]["state"] == "AVAILABLE"
    r = http.post("/v1/models/half:predict", json={"instances": ROWS.tolist()})
    assert r.status_code == 200
    r = http.post(
        "/v1/models/half/versions/2:predict", json={"instances": [[0] * 4]}
    )
    assert r.status_code == 404
    assert r.json() == {
        "error": "Servable not found for request: Specific(half, 2)"
    }


def test_metadata_lists_signature_defs(http, loaded):
    r = http.get("/v1/models/mlp/metadata")
    assert r.status_code == 200
    body = r.json()
    assert body["model_spec"] == {
        "name": "mlp",
        "signature_name": "",
        "version": "1",
    }
    sig = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sig["method_name"] == "tensorflow/serving/predict"
    features = sig["inputs"]["features"]
    assert features["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in features["tensor_shape"]["dim"]] == ["-1", "4"]
    ref = loaded("mlp").signatures["serving_default"]
    assert sorted(sig["outputs"]) == sorted(ref.structured_outputs)
    gpt = http.get("/v1/models/gpt/metadata").json()
    sigs = gpt["metadata"]["signature_def"]["signature_def"]
    assert sorted(sigs["generate"]["inputs"]) == [
        "max_new_tokens",
        "prompt_ids",
    ]


def test_predict_row_form_named_outputs(http, loaded):
    r = http.post("/v1/models/mlp:predict", json={"instances": ROWS.tolist()})
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    ref = _reference(loaded, "mlp", features=tf.constant(ROWS))
    assert len(predictions) == 2
    for i, row in enumerate(predictions):
        assert sorted(row) == ["label", "probabilities"]
        np.testing.assert_allclose(
            row["probabilities"], ref["probabilities"][i], rtol=0, atol=1e-6
        )
        assert row["label"] == ref["label"][i]


def test_predict_column_form_and_versions_path(http, loaded):
    body = {
        "signature_name": "serving_default",
        "inputs": {"features": ROWS.tolist()},
    }
    r = http.post("/v1/models/mlp/versions/1:predict", json=body)
    assert r.status_code == 200, r.text
    outputs = r.json()["outputs"]
    ref = _reference(loaded, "mlp", features=tf.constant(ROWS))
    np.testing.assert_allclose(
        outputs["probabilities"], ref["probabilities"], rtol=0, atol=1e-6
    )
    assert outputs["label"] == ref["label"].tolist()
    # A single unnamed input may be given bare.
    r2 = http.post("/v1/models/mlp:predict", json={"inputs": ROWS.tolist()})
    assert r2.json() == r.json()


def test_nan_and_infinity_accepted_like_tf_serving(http, loaded):
    body = '{"instances": [[NaN, 0.0, 0.0, 0.0], [Infinity, 0, 0, -Infinity]]}'
    r = http.post("/v1/models/mlp:predict", content=body)
    assert r.status_code == 200, r.text
    rows = json.loads(r.text)["predictions"]  # NaN/Infinity tokens parse
    # What a NaN input becomes depends on the kernels TensorFlow picks for
    # the graph (runs have answered NaN, and 1/3 for every class), as it
    # would in TF Serving: the server answers what the export computes.
    x = np.array([[np.nan, 0, 0, 0], [np.inf, 0, 0, -np.inf]], "float32")
    ref = _reference(loaded, "mlp", features=tf.constant(x))
    got = np.array([row["probabilities"] for row in rows], "float32")
    np.testing.assert_allclose(got, ref["probabilities"], rtol=0, atol=1e-6)
    assert [row["label"] for row in rows] == ref["label"].tolist()
    assert ("NaN" in r.text) == bool(np.isnan(ref["probabilities"]).any())
    # Non-finite outputs are written back as TF Serving writes them.
    from refnn.serving.contract import dumps

    inf = float("inf")
    assert dumps({"p": [float("nan"), inf, -inf]}) == (
        '{"p":[NaN,Infinity,-Infinity]}'
    )


def test_text_classifier_strings_and_b64(http, loaded):
    texts = ["a great and lovely film", "awful boring plot"]
    r = http.post(
        "/v1/models/text_classifier:predict",
        json={"signature_name": "serve_text", "instances": texts},
    )
    assert r.status_code == 200, r.text
    ref = _reference(
        loaded, "text_classifier", "serve_text", text=tf.constant(texts)
    )
    got = r.json()["predictions"]
    for i in range(2):
        np.testing.assert_allclose(
            got[i]["probabilities"], ref["probabilities"][i], atol=1e-6
        )
    b64 = [{"b64": base64.b64encode(t.encode()).decode()} for t in texts]
    r2 = http.post(
        "/v1/models/text_classifier:predict",
        json={"signature_name": "serve_text", "instances": b64},
    )
    assert r2.json() == r.json()


def test_seq2seq_translate(http, loaded):
    dates = ["2020-01-02", "1999-12-31"]
    r = http.post(
        "/v1/models/seq2seq:predict",
        json={"signature_name": "translate", "inputs": {"text": dates}},
    )
    assert r.status_code == 200, r.text
    ref = _reference(loaded, "seq2seq", "translate", text=tf.constant(dates))
    out = r.json()["outputs"]
    assert out["translation"] == [t.decode() for t in ref["translation"]]
    assert out["token_ids"] == ref["token_ids"].tolist()


def test_gpt_generate_and_bert(http, loaded):
    prompt = np.array([[1, 2, 3], [4, 5, 6]], "int32")
    r = http.post(
        "/v1/models/gpt:predict",
        json={
            "signature_name": "generate",
            "inputs": {"prompt_ids": prompt.tolist(), "max_new_tokens": 4},
        },
    )
    assert r.status_code == 200, r.text
    ref = _reference(
        loaded,
        "gpt",
        "generate",
        prompt_ids=tf.constant(prompt),
        max_new_tokens=tf.constant(4),
    )
    assert r.json() == {"outputs": ref["token_ids"].tolist()}
    ids = np.array([[5, 6, 7, 8]], "int32")
    r = http.post("/v1/models/bert:predict", json={"instances": ids.tolist()})
    assert r.status_code == 200, r.text
    ref = _reference(loaded, "bert", token_ids=tf.constant(ids))
    np.testing.assert_allclose(
        r.json()["predictions"][0]["probabilities"],
        ref["probabilities"][0],
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "model,body,field",
    [
        ("gpt", {"instances": [[1, -1, 3]]}, "token_ids"),
        ("gpt", {"instances": [[1, 23, 3]]}, "token_ids"),
        (
            "gpt",
            {
                "signature_name": "generate",
                "inputs": {"prompt_ids": [[1, 99]], "max_new_tokens": 2},
            },
            "prompt_ids",
        ),
        ("bert", {"instances": [[5, 30]]}, "token_ids"),
        ("text_classifier", {"instances": [[1, -5]]}, "token_ids"),
        (
            "seq2seq",
            {"inputs": {"encoder_inputs": [[1, 2, 1000]]}},
            "encoder_inputs",
        ),
    ],
)
def test_token_ids_out_of_range_are_rejected_in_the_graph(
    http, model, body, field
):
    r = http.post(f"/v1/models/{model}:predict", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]
    assert "must hold token ids in [0, " in r.json()["error"]


def test_classify_on_a_predict_signature(http):
    r = http.post("/v1/models/mlp:classify", json={"examples": [{}]})
    assert r.status_code == 400
    assert r.json() == {
        "error": "Expected classify signature method_name to be "
        "tensorflow/serving/classify. Was: tensorflow/serving/predict"
    }


def test_oversized_body_gets_413_and_server_stays_up(http):
    big = {"instances": [[0.5] * 4] * 20000}  # > --max-request-bytes 100000
    r = http.post("/v1/models/mlp:predict", json=big)
    assert r.status_code == 413
    assert "--max-request-bytes" in r.json()["error"]
    ok = http.post("/v1/models/mlp:predict", json={"instances": [[0.0] * 4]})
    assert ok.status_code == 200


def test_prometheus_metrics(http):
    http.post("/v1/models/mlp:predict", json={"instances": [[0.0] * 4]})
    http.post("/v1/models/nope:predict", json={"instances": [[0.0] * 4]})
    text = http.get("/monitoring/prometheus/metrics").text
    assert (
        'refnn_serving_request_count{model="mlp",api="rest",'
        'method="predict",code="200"}'
    ) in text
    # Unknown names share one label: the metrics cannot be grown at will.
    assert 'model="_unknown",api="rest",method="predict",code="404"' in text
    assert "nope" not in text
    assert "refnn_serving_request_latency_seconds_bucket" in text
    assert 'refnn_serving_available_versions{model="half"} 1' in text
