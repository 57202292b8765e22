"""The gRPC API of `refnn serve`, via the official tensorflow-serving-api."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

# Real server subprocesses: slow, still run by make test.
pytestmark = pytest.mark.large


TIMEOUT = 60


@pytest.fixture(scope="module")
def channel(server):
    with grpc.insecure_channel(server.grpc_target) as ch:
        grpc.channel_ready_future(ch).result(timeout=TIMEOUT)
        yield ch


@pytest.fixture(scope="module")
def stub(channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


def _request(model, signature="", version=None, **inputs):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return request


def _outputs(response):
    return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}


def test_predict_mlp_matches_in_process(stub, loaded):
    rows = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    response = stub.Predict(_request("mlp", features=rows), timeout=TIMEOUT)
    assert response.model_spec.name == "mlp"
    assert response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"
    got = _outputs(response)
    ref = loaded("mlp").signatures["serving_default"](features=rows)
    np.testing.assert_allclose(
        got["probabilities"], ref["probabilities"].numpy(), rtol=0, atol=1e-6
    )
    np.testing.assert_array_equal(got["label"], ref["label"].numpy())


def test_predict_strings_and_output_filter(stub, loaded):
    dates = np.array([b"2020-01-02", b"1999-12-31"], dtype=object)
    request = _request("seq2seq", "translate", text=dates)
    request.output_filter.append("translation")
    got = _outputs(stub.Predict(request, timeout=TIMEOUT))
    ref = loaded("seq2seq").signatures["translate"](text=tf.constant(dates))
    assert list(got) == ["translation"]
    assert got["translation"].tolist() == ref["translation"].numpy().tolist()


def test_text_classifier_strings(stub, loaded):
    texts = np.array([b"a great film", b"boring and awful"], dtype=object)
    got = _outputs(
        stub.Predict(
            _request("text_classifier", "serve_text", text=texts),
            timeout=TIMEOUT,
        )
    )
    ref = loaded("text_classifier").signatures["serve_text"](
        text=tf.constant(texts)
    )
    np.testing.assert_allclose(
        got["probabilities"], ref["probabilities"].numpy(), rtol=0, atol=1e-6
    )


def test_gpt_generate_and_bert(stub, loaded):
    prompt = np.array([[3, 1, 4]], "int32")
    got = _outputs(
        stub.Predict(
            _request(
                "gpt",
                "generate",
                prompt_ids=prompt,
                max_new_tokens=np.int32(5),
            ),
            timeout=TIMEOUT,
        )
    )
    ref = loaded("gpt").signatures["generate"](
        prompt_ids=tf.constant(prompt), max_new_tokens=tf.constant(5)
    )
    np.testing.assert_array_equal(got["token_ids"], ref["token_ids"].numpy())
    ids = np.array([[5, 9, 7]], "int32")
    got = _outputs(stub.Predict(_request("bert", token_ids=ids), timeout=60))
    ref = loaded("bert").signatures["serving_default"](token_ids=ids)
    np.testing.assert_allclose(
        got["probabilities"], ref["probabilities"].numpy(), atol=1e-6
    )


@pytest.mark.parametrize(
    "request_fn,code,text",
    [
        (
            lambda: _request("nope", features=np.zeros((1, 4), "float32")),
            grpc.StatusCode.NOT_FOUND,
            "Servable not found for request: Latest(nope)",
        ),
        (
            lambda: _request(
                "mlp", version=7, features=np.zeros((1, 4), "float32")
            ),
            grpc.StatusCode.NOT_FOUND,
            "Servable not found for request: Specific(mlp, 7)",
        ),
        (
            lambda: _request("mlp", "nosuch", features=np.zeros((1, 4), "f")),
            grpc.StatusCode.INVALID_ARGUMENT,
            'Serving signature name: "nosuch" not found',
        ),
        (
            lambda: _request("mlp", features=np.zeros((1, 3), "float32")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "input 'features' must have shape [-1,4]",
        ),
        (
            lambda: _request("mlp", features=np.zeros((1, 4), "float64")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "input 'features' must have dtype float32, got float64",
        ),
        (
            lambda: _request("mlp", x=np.zeros((1, 4), "float32")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "missing inputs ['features']",
        ),
        (
            lambda: _request("gpt", token_ids=np.array([[1, -1]], "int32")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "token_ids must hold token ids in [0, 23)",
        ),
    ],
)
def test_errors_have_tf_serving_codes(stub, request_fn, code, text):
    with pytest.raises(grpc.RpcError) as info:
        stub.Predict(request_fn(), timeout=TIMEOUT)
    assert info.value.code() == code
    assert text in info.value.details()


def test_get_model_metadata(stub, loaded):
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "gpt"
    request.metadata_field.append("signature_def")
    response = stub.GetModelMetadata(request, timeout=TIMEOUT)
    assert response.model_spec.version.value == 1
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(sig_map)
    generate = sig_map.signature_def["generate"]
    ref = loaded("gpt").signatures["generate"]
    assert sorted(generate.inputs) == sorted(ref.structured_input_signature[1])
    assert generate.inputs["prompt_ids"].dtype == tf.int32.as_datatype_enum
    assert sorted(generate.outputs) == sorted(ref.structured_outputs)
    request.metadata_field[0] = "nothing"
    with pytest.raises(grpc.RpcError) as info:
        stub.GetModelMetadata(request, timeout=TIMEOUT)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_get_model_status(channel):
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "half"
    response = stub.GetModelStatus(request, timeout=TIMEOUT)
    states = {s.version: s for s in response.model_version_status}
    state = get_model_status_pb2.ModelVersionStatus.State
    assert states[1].state == state.Value("AVAILABLE")
    assert states[1].status.error_code == 0
    assert states[2].state == state.Value("END")
    assert states[2].status.error_code == 15  # DATA_LOSS
    request.model_spec.name = "nope"
    with pytest.raises(grpc.RpcError) as info:
        stub.GetModelStatus(request, timeout=TIMEOUT)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_classify_on_a_predict_signature(stub):
    from tensorflow_serving.apis import classification_pb2

    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "mlp"
    with pytest.raises(grpc.RpcError) as info:
        stub.Classify(request, timeout=TIMEOUT)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Was: tensorflow/serving/predict" in info.value.details()
