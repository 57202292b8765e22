"""The model service behind both APIs: predict, status, metadata.

Builds TF Serving's own response messages (``tensorflow_serving.apis``) for
status and metadata, so the REST JSON is those messages printed the way TF
Serving prints them and the gRPC answers are the messages themselves.
"""

import re

from google.protobuf import json_format

from refnn.serving import contract
from refnn.serving.errors import CODE_NUMBERS, ServingError, invalid

# TF Serving's REST routes (http_rest_api_util.cc).
PREDICT_RE = re.compile(
    r"(?i)/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
    r":(classify|regress|predict)"
)
STATUS_RE = re.compile(
    r"(?i)/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|"
    r"(?:/labels/([^/:]+)))?(?:/(metadata))?"
)


def check_inputs(signature, arrays):
    """Checks names, dtypes and shapes of decoded inputs (both APIs)."""
    names = sorted(signature.inputs)
    if sorted(arrays) != names:
        missing = sorted(set(names) - set(arrays))
        extra = sorted(set(arrays) - set(names))
        parts = []
        if missing:
            parts.append(f"missing inputs {missing}")
        if extra:
            parts.append(f"unknown inputs {extra}")
        raise invalid(
            f"signature {signature.name!r} takes inputs {names}: "
            + ", ".join(parts)
        )
    for name in names:
        spec = signature.inputs[name]
        array = arrays[name]
        kind = "string" if array.dtype.kind in "OSU" else array.dtype.name
        if kind != spec.dtype:
            raise invalid(
                f"input {name!r} must have dtype {spec.dtype}, got {kind}"
            )
        contract.check_shape(array, spec, f"input {name!r}")


class ModelService:
    """Answers requests from a `ModelManager` (optionally via a batcher).

    Both servers (REST and gRPC) call it; it can also be used in-process.

    Example:

    A `Dense(1)` with all-ones kernel and zero bias answers row sums:

    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> import keras
    >>> from refnn.export import export_savedmodel
    >>> from refnn.serving.manager import ModelConfig, ModelManager
    >>> dense = keras.layers.Dense(1, kernel_initializer="ones")
    >>> model = keras.Sequential([keras.Input((3,)), dense])
    >>> base_dir = Path(tempfile.mkdtemp())
    >>> _ = export_savedmodel(model, "sum", base_dir=base_dir)
    >>> manager = ModelManager([ModelConfig("sum", base_dir / "sum")])
    >>> manager.poll()  # loads version 1
    >>> manager.status("sum")
    [(1, 'AVAILABLE', 'OK', '')]
    >>> service = ModelService(manager)
    >>> service.predict_json("sum", None, None, "predict",
    ...                      '{"instances": [[1, 2, 3], [0.5, 0, 0]]}')
    {'predictions': [[6.0], [0.5]]}
    >>> shutil.rmtree(base_dir)
    """

    def __init__(self, manager, batcher=None):
        self.manager = manager
        self.batcher = batcher

    def predict(self, name, version, label, signature_name, arrays):
        """Runs a signature; returns ``(servable, {output: array})``."""
        servable = self.manager.get(name, version, label)
        signature = servable.signature(signature_name)
        check_inputs(signature, arrays)
        if self.batcher is not None:
            return servable, self.batcher.run(servable, signature, arrays)
        return servable, signature(arrays)

    def predict_json(self, name, version, label, method, body):
        """A REST ``:predict`` body -> the response dict (or raises)."""
        if method != "predict":
            return self._classify_regress(name, version, label, method, body)
        servable = self.manager.get(name, version, label)
        request = contract.parse_predict(
            body, lambda s: servable.signature(s).inputs
        )
        signature = servable.signature(request.signature_name)
        check_inputs(signature, request.inputs)
        if self.batcher is not None:
            outputs = self.batcher.run(servable, signature, request.inputs)
        else:
            outputs = signature(request.inputs)
        return contract.format_predict(outputs, request.row_form)

    def _classify_regress(self, name, version, label, method, body):
        servable = self.manager.get(name, version, label)
        doc = contract.parse_json(body)
        signature = "serving_default"
        if isinstance(doc, dict) and isinstance(doc.get("signature_name"), str):
            signature = doc["signature_name"] or signature
        servable.signature(signature)
        method_name = servable.signature_defs[signature].method_name
        expected = f"tensorflow/serving/{method}"
        raise invalid(
            f"Expected {method} signature method_name to be {expected}. "
            f"Was: {method_name}"
        )

    # -- status / metadata --------------------------------------------------
    def status_proto(self, name, version=None, label=None):
        from tensorflow_serving.apis import get_model_status_pb2

        response = get_model_status_pb2.GetModelStatusResponse()
        for v, state, code, message in self.manager.status(
            name, version, label
        ):
            entry = response.model_version_status.add()
            entry.version = v
            entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(
                state
            )
            entry.status.error_code = CODE_NUMBERS[code]
            entry.status.error_message = message
        return response

    def metadata_proto(self, name, version=None, label=None):
        from tensorflow_serving.apis import get_model_metadata_pb2

        servable = self.manager.get(name, version, label)
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        for key, sig in servable.signature_defs.items():
            sig_map.signature_def[key].CopyFrom(sig)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = name
        response.model_spec.version.value = servable.version
        response.metadata["signature_def"].Pack(sig_map)
        return response, sig_map

    def status_json(self, name, version=None, label=None):
        return _to_json(self.status_proto(name, version, label))

    def metadata_json(self, name, version=None, label=None):
        response, sig_map = self.metadata_proto(name, version, label)
        return {
            "model_spec": _to_json(response.model_spec),
            "metadata": {"signature_def": _to_json(sig_map)},
        }

    # -- REST dispatch (framework-free) -------------------------------------
    def handle_rest(self, method, path, body):
        """``(http_status, response dict)`` for a TF Serving REST request."""
        try:
            return 200, self._dispatch(method, path, body)
        except ServingError as e:
            return e.http_status, {"error": e.message}

    def _dispatch(self, method, path, body):
        if method == "POST":
            m = PREDICT_RE.fullmatch(path)
            if m:
                name, version, label, verb = m.groups()
                return self.predict_json(
                    name, _int(version), label, verb.lower(), body
                )
        elif method == "GET":
            m = STATUS_RE.fullmatch(path)
            if m:
                name, version, label, sub = m.groups()
                if not name:
                    raise invalid("Missing model name in request.")
                if sub:
                    return self.metadata_json(name, _int(version), label)
                return self.status_json(name, _int(version), label)
        raise invalid(f"Malformed request: {method} {path}")


def _int(text):
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise invalid(
            f"Failed to convert version: {text} to numeric."
        ) from None


def _to_json(message):
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
