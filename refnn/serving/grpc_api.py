"""TF Serving's gRPC API: ``PredictionService`` and ``ModelService``.

Implements ``tensorflow.serving.PredictionService/Predict``,
``GetModelMetadata``, ``Classify``/``Regress`` (answered as TF Serving
answers a predict-only signature) and ``ModelService/GetModelStatus`` with
the messages of the official ``tensorflow-serving-api`` package, so its
``PredictionServiceStub`` and ``ModelServiceStub`` work unchanged.
"""

import time
from concurrent import futures

import grpc
import tensorflow as tf
from tensorflow_serving.apis import (
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from refnn.serving.errors import ServingError, invalid

_GRPC_CODES = {c.name: c for c in grpc.StatusCode}


def _spec_args(spec):
    version = spec.version.value if spec.HasField("version") else None
    label = spec.version_label or None
    return spec.name, version, label


class _Observed:
    """Turns `ServingError` into a gRPC status; records metrics."""

    def __init__(self, metrics, method, context, model):
        self.metrics, self.method, self.context = metrics, method, context
        self.model = model if model in metrics.available else "_unknown"

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, kind, error, tb):
        if error is not None and not isinstance(error, Exception):
            return False
        code = "OK"
        if isinstance(error, ServingError):
            code = error.code
        elif error is not None:
            code = "INTERNAL"
            error = ServingError(code, f"{type(error).__name__}: {error}")
        seconds = time.perf_counter() - self.start
        self.metrics.observe(self.model, "grpc", self.method, code, seconds)
        if error is not None:
            self.context.abort(_GRPC_CODES[code], error.message)
        return False


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, service, metrics):
        self.service = service
        self.metrics = metrics

    def Predict(self, request, context):
        name, version, label = _spec_args(request.model_spec)
        with _Observed(self.metrics, "predict", context, name):
            arrays = {}
            for key, proto in request.inputs.items():
                try:
                    arrays[key] = tf.make_ndarray(proto)
                except (TypeError, ValueError) as e:
                    raise invalid(
                        f"input {key!r} is not a valid TensorProto: {e}"
                    ) from None
            signature_name = request.model_spec.signature_name
            servable, outputs = self.service.predict(
                name, version, label, signature_name, arrays
            )
            wanted = list(request.output_filter) or sorted(outputs)
            unknown = sorted(set(wanted) - set(outputs))
            if unknown:
                raise invalid(
                    f"output tensor alias not found in signature: {unknown[0]}"
                    f" (outputs {sorted(outputs)})"
                )
            response = predict_pb2.PredictResponse()
            response.model_spec.name = name
            response.model_spec.version.value = servable.version
            response.model_spec.signature_name = (
                signature_name or "serving_default"
            )
            for key in wanted:
                response.outputs[key].CopyFrom(
                    tf.make_tensor_proto(outputs[key])
                )
            return response

    def GetModelMetadata(self, request, context):
        name, version, label = _spec_args(request.model_spec)
        with _Observed(self.metrics, "metadata", context, name):
            for field in request.metadata_field:
                if field != "signature_def":
                    raise invalid(f"Metadata field {field} is not supported")
            if not request.metadata_field:
                raise invalid(
                    "GetModelMetadataRequest must specify at least "
                    "one metadata_field"
                )
            response, _ = self.service.metadata_proto(name, version, label)
            return response

    def _method_mismatch(self, request, context, method):
        name, version, label = _spec_args(request.model_spec)
        with _Observed(self.metrics, method, context, name):
            servable = self.service.manager.get(name, version, label)
            signature = request.model_spec.signature_name or "serving_default"
            servable.signature(signature)
            actual = servable.signature_defs[signature].method_name
            raise invalid(
                f"Expected {method} signature method_name to be "
                f"tensorflow/serving/{method}. Was: {actual}"
            )

    def Classify(self, request, context):
        self._method_mismatch(request, context, "classify")

    def Regress(self, request, context):
        self._method_mismatch(request, context, "regress")


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, service, metrics):
        self.service = service
        self.metrics = metrics

    def GetModelStatus(self, request, context):
        name, version, label = _spec_args(request.model_spec)
        with _Observed(self.metrics, "status", context, name):
            return self.service.status_proto(name, version, label)


def create_grpc_server(
    service, metrics, address, max_workers=16, max_message_bytes=0
):
    """A started-later `grpc.Server` bound to `address` ("host:port")."""
    options = []
    if max_message_bytes:
        options.append(("grpc.max_receive_message_length", max_message_bytes))
    server = grpc.server(
        futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="refnn-grpc"
        ),
        options=options,
    )
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionServicer(service, metrics), server
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(
        ModelServicer(service, metrics), server
    )
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot bind the gRPC port at {address}")
    return server, port
