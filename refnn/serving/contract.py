"""TF Serving's REST predict contract: JSON in, arrays, JSON out.

Free of any web framework and of TensorFlow (numpy only), so the HTTP
server, the gRPC server's checks and ``refnn predict`` share it. It follows
TF Serving's ``g3doc/api_rest.md`` and ``util/json_tensor.cc``:

* request ``{"signature_name": s, "instances": [...]}`` (row form: one entry
  per example, an object ``{input: value}`` when the signature has several
  inputs) or ``{"inputs": value | {input: value}}`` (column form);
* ``NaN``, ``Infinity`` and ``-Infinity`` are accepted as JSON numbers;
  ``{"b64": "..."}`` carries bytes for string inputs;
* response ``{"predictions": ...}`` (row form) or ``{"outputs": ...}``
  (column form); one output is written unnamed, several as an object.
  String outputs whose name ends in ``_bytes`` are written as ``{"b64"}``.

Every rejected request raises `ServingError("INVALID_ARGUMENT", ...)` with
a message naming the input, the row and the value, TF Serving's own text
where it has one ("JSON Parse error: ...", "Missing 'inputs' or
'instances' key", ...).
"""

import base64
import binascii
import json
from dataclasses import dataclass

import numpy as np

from refnn.serving.errors import ServingError, invalid

DEFAULT_SIGNATURE = "serving_default"
_SHORT = 120


@dataclass(frozen=True)
class InputSpec:
    """An input's dtype name (``"float32"``, ``"string"``, ...) and shape
    (a tuple with ``None`` for variable dims, or ``None``: unknown rank)."""

    dtype: str
    shape: tuple = None


def _short(value):
    text = json.dumps(value) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


def _shape_text(shape):
    return "[" + ",".join("-1" if d is None else str(d) for d in shape) + "]"


def parse_json(body):
    """Decodes a request body (bytes or str); errors as TF Serving's.

    Example:

    >>> parse_json(b'{"instances": [[1, NaN]]}')  # NaN is allowed
    {'instances': [[1, nan]]}
    >>> parse_json("{")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    refnn.serving.errors.ServingError: JSON Parse error: ...
    """
    if isinstance(body, (bytes, bytearray)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as e:
            raise invalid(
                f"JSON Parse error: Invalid encoding in string. at offset: "
                f"{e.start}"
            ) from None
    if not body.strip():
        raise invalid("JSON Parse error: The document is empty")
    try:
        return json.loads(body)
    except json.JSONDecodeError as e:
        raise invalid(f"JSON Parse error: {e.msg} at offset: {e.pos}") from None
    except RecursionError:
        raise invalid("JSON Parse error: nesting too deep") from None


# -- JSON value -> numpy array ---------------------------------------------


def _kind_error(where, value, dtype):
    kind = _json_kind(value)
    return invalid(
        f"{where}: JSON Value: {_short(value)} Type: {kind} is not of "
        f"expected type: {dtype}"
    )


def _json_kind(value):
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


def _decode_b64(where, value):
    if len(value) != 1 or not isinstance(value.get("b64"), str):
        raise invalid(
            f"{where}: JSON Value: {_short(value)} not formatted correctly "
            "for base64 data"
        )
    try:
        return base64.b64decode(value["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise invalid(
            f"{where}: Unable to base64 decode {_short(value['b64'])}"
        ) from None


def _leaf_ok(value, dtype):
    if dtype == "string":
        return isinstance(value, str)
    if dtype == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if dtype.startswith(("int", "uint")):
        return isinstance(value, int)
    return True


def _walk(value, dtype, where, path=()):
    """Finds the first bad leaf or ragged list; raises a clear error."""
    if isinstance(value, list):
        shapes = set()
        for i, v in enumerate(value):
            _walk(v, dtype, where, path + (i,))
            shapes.add(np.shape(v) if isinstance(v, list) else ())
        if len(shapes) > 1:
            sizes = [len(v) if isinstance(v, list) else None for v in value]
            at = "".join(f"[{p}]" for p in path)
            raise invalid(
                f"{where}: ragged list at {at or 'the top level'}: "
                f"the lists have different lengths {sizes}; every row must "
                "have the same shape"
            )
        return
    at = "".join(f"[{p}]" for p in path)
    if dtype == "string" and isinstance(value, dict):
        _decode_b64(f"{where}{at}", value)
        return
    if not _leaf_ok(value, dtype):
        raise _kind_error(f"{where}{at}", value, dtype)


def _b64_leaves(value, where):
    if isinstance(value, list):
        return [_b64_leaves(v, where) for v in value]
    if isinstance(value, dict):
        return _decode_b64(where, value)
    return value.encode("utf-8")


def _has_bool(value):
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return any(_has_bool(v) for v in value)
        return any(v is True or v is False for v in value)
    return value is True or value is False


def to_array(value, spec, where):
    """A JSON value as a numpy array of `spec.dtype` (checked, not coerced).

    Args:
        value: the decoded JSON value (nested lists of numbers/strings).
        spec: the `InputSpec` it feeds.
        where: a description for errors, e.g. ``"input 'features'"``.

    Example:

    >>> to_array([[1, 2.5]], InputSpec("float32"), "input 'x'")
    array([[1. , 2.5]], dtype=float32)
    >>> to_array([[1, 2.5]], InputSpec("int32"), "input 'x'")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    refnn.serving.errors.ServingError: input 'x'[0][1]: JSON Value: 2.5 ...
    """
    dtype = spec.dtype
    if dtype == "string":
        _walk(value, dtype, where)
        array = np.array(_b64_leaves(value, where), dtype=object)
        if array.ndim == 0:
            array = np.array(array.item(), dtype=object)
        return array
    try:
        raw = np.asarray(value)
    except (ValueError, OverflowError):
        raw = None
    target = np.dtype(dtype)
    if raw is not None and raw.size == 0 and raw.dtype.kind == "f":
        return raw.astype(target)  # [] or [[]]: the shape check decides
    ok = raw is not None and (
        (target.kind == "b" and raw.dtype.kind == "b")
        or (target.kind in "iu" and raw.dtype.kind in "iu")
        or (target.kind in "fc" and raw.dtype.kind in "iuf")
    )
    if ok and target.kind != "b" and _has_bool(value):
        ok = False  # numpy reads true/false as 1/0: not a number here
    if not ok:
        _walk(value, dtype, where)
        raise invalid(f"{where}: cannot read {_short(value)} as {dtype}")
    if target.kind in "iu" and raw.size:
        info = np.iinfo(target)
        low, high = raw.min(), raw.max()
        if low < info.min or high > info.max:
            bad = low if low < info.min else high
            raise invalid(
                f"{where}: value {int(bad)} is out of range for {dtype} "
                f"[{info.min}, {info.max}]"
            )
    return raw.astype(target, copy=False)


def check_shape(array, spec, where):
    """Raises unless `array`'s shape fits `spec.shape` (None = any).

    Example:

    >>> import numpy as np
    >>> spec = InputSpec("float32", (None, 4))
    >>> check_shape(np.zeros((2, 4)), spec, "input 'x'")  # fits: None
    >>> try:
    ...     check_shape(np.zeros((2, 3)), spec, "input 'x'")
    ... except ServingError as error:
    ...     print(error.code, error.message)
    INVALID_ARGUMENT input 'x' must have shape [-1,4] (-1 = any), got [2,3]
    """
    if spec.shape is None:
        return
    shape = array.shape
    if len(shape) != len(spec.shape) or any(
        d is not None and d != s for d, s in zip(spec.shape, shape)
    ):
        raise invalid(
            f"{where} must have shape {_shape_text(spec.shape)} (-1 = any), "
            f"got {_shape_text(shape)}"
        )


# -- requests ---------------------------------------------------------------


@dataclass
class PredictRequest:
    """A parsed REST predict request (see `parse_predict`).

    Attributes:
        signature_name: the endpoint asked for (``serving_default`` when
            the request names none).
        inputs: ``{input_name: np.ndarray}``, checked against the specs.
        row_form: True for ``"instances"`` (answer ``"predictions"``),
            False for ``"inputs"`` (answer ``"outputs"``).
    """

    signature_name: str
    inputs: dict  # name -> numpy array
    row_form: bool


def _rows_to_arrays(rows, specs):
    names = sorted(specs)
    first = rows[0]
    named = len(names) > 1 or (
        isinstance(first, dict)
        and not (
            specs[names[0]].dtype == "string"
            and set(first) == {"b64"}
            and "b64" not in names
        )
    )
    if len(names) > 1 and not isinstance(rows[0], dict):
        raise invalid(
            "instances is a plain list, but expecting list of objects as "
            "multiple input tensors required as per tensorinfo_map "
            f"(inputs {names})"
        )
    if not named:
        (name,) = names
        for i, row in enumerate(rows):
            if isinstance(row, dict) and not (
                specs[name].dtype == "string" and set(row) == {"b64"}
            ):
                raise invalid(
                    f"Expecting value/list but got object at item {i} of "
                    "input list"
                )
        return {name: _stack(rows, specs[name], name)}
    columns = {n: [] for n in names}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise invalid(
                f"Expecting object but got list at item {i} of input list"
            )
        if set(row) != set(names):
            raise invalid(
                f"Failed to process element: {i} of 'instances' list. JSON "
                f"object: {_short(row)} keys must be equal to: "
                + ",".join(names)
            )
        for n in names:
            columns[n].append(row[n])
    return {n: _stack(columns[n], specs[n], n) for n in names}


def _stack(rows, spec, name):
    arrays = []
    for i, row in enumerate(rows):
        arrays.append(to_array(row, spec, f"input {name!r} instance {i}"))
        if arrays[-1].shape != arrays[0].shape:
            raise invalid(
                f"input {name!r}: instance {i} has shape "
                f"{_shape_text(arrays[-1].shape)} but instance 0 has shape "
                f"{_shape_text(arrays[0].shape)}; every instance must have "
                "the same shape"
            )
    array = np.stack(arrays)
    check_shape(array, spec, f"input {name!r}")
    return array


def _columns_to_arrays(value, specs):
    names = sorted(specs)
    is_b64 = isinstance(value, dict) and set(value) == {"b64"}
    if isinstance(value, dict) and not (is_b64 and "b64" not in specs):
        missing = [n for n in names if n not in value]
        if missing:
            raise invalid(
                f"Missing named input: {missing[0]} in 'inputs' object."
            )
        extra = sorted(set(value) - set(names))
        if extra:
            raise invalid(
                f"Unknown named input: {extra[0]} in 'inputs' object "
                f"(the signature takes {names})."
            )
        items = {n: value[n] for n in names}
    elif len(names) > 1:
        raise invalid(
            "inputs is a plain value/list, but expecting an object as "
            f"multiple input tensors required as per tensorinfo_map "
            f"(inputs {names})"
        )
    else:
        items = {names[0]: value}
    out = {}
    for n, v in items.items():
        array = to_array(v, specs[n], f"input {n!r}")
        check_shape(array, specs[n], f"input {n!r}")
        out[n] = array
    return out


def parse_predict(body, input_specs_for):
    """Parses a REST predict body into a `PredictRequest`.

    Args:
        body: the request body (bytes/str) or an already decoded object.
        input_specs_for: ``signature_name -> {input: InputSpec}``; raises
            `ServingError` for an unknown signature.

    Returns:
        A `PredictRequest`.

    Raises:
        ServingError: ``INVALID_ARGUMENT`` with TF Serving's message.

    Example:

    The row form (one entry per example) and the column form of the same
    two examples give the same arrays:

    >>> specs = {"features": InputSpec("float32", (None, 2))}
    >>> rows = parse_predict('{"instances": [[1, 2], [3, 4]]}',
    ...                      lambda signature: specs)
    >>> rows.signature_name, rows.row_form, rows.inputs["features"].shape
    ('serving_default', True, (2, 2))
    >>> columns = parse_predict({"inputs": {"features": [[1, 2], [3, 4]]}},
    ...                         lambda signature: specs)
    >>> same = (columns.inputs["features"] == rows.inputs["features"]).all()
    >>> columns.row_form, bool(same)
    (False, True)
    >>> parse_predict("{}", lambda signature: specs)
    Traceback (most recent call last):
    ...
    refnn.serving.errors.ServingError: Missing 'inputs' or 'instances' key
    """
    doc = body if isinstance(body, (dict, list)) else parse_json(body)
    if not isinstance(doc, dict):
        raise invalid(f"JSON Value: {_short(doc)} Is not object")
    signature = doc.get("signature_name", "")
    if not isinstance(signature, str):
        raise invalid(
            f"JSON Value: {_short(signature)} not formatted correctly. "
            "'signature_name' key must be a string value."
        )
    signature = signature or DEFAULT_SIGNATURE
    has_rows, has_cols = "instances" in doc, "inputs" in doc
    if has_rows and has_cols:
        raise invalid(
            "Not formatted correctly expecting only one of 'inputs' or "
            "'instances' keys to exist"
        )
    if not (has_rows or has_cols):
        raise invalid("Missing 'inputs' or 'instances' key")
    specs = input_specs_for(signature)
    if has_rows:
        rows = doc["instances"]
        if not isinstance(rows, list):
            raise invalid("Expecting 'instances' to be an list/array")
        if not rows:
            raise invalid("No values in 'instances' array")
        return PredictRequest(signature, _rows_to_arrays(rows, specs), True)
    return PredictRequest(
        signature, _columns_to_arrays(doc["inputs"], specs), False
    )


# -- responses --------------------------------------------------------------


def _bytes_leaves(value, as_b64):
    if isinstance(value, list):
        return [_bytes_leaves(v, as_b64) for v in value]
    if isinstance(value, bytes):
        if not as_b64:
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return {"b64": base64.b64encode(value).decode("ascii")}
    return value


def jsonable(array, name=""):
    """An array as JSON-ready nested lists (bytes as text or ``{"b64"}``).

    Bytes are written as text when they are UTF-8, as ``{"b64": ...}``
    otherwise or when `name` ends in ``_bytes``.

    Example:

    >>> import numpy as np
    >>> jsonable(np.array([[1.5, 2.0]], "float32"))
    [[1.5, 2.0]]
    >>> jsonable(np.array([b"hi"], object)), jsonable(np.array([b"hi"], object),
    ...                                               "image_bytes")
    (['hi'], [{'b64': 'aGk='}])
    """
    array = np.asarray(array)
    value = array.tolist()
    if array.dtype.kind in "OSU":
        value = _bytes_leaves(value, name.endswith("_bytes"))
    return value


def format_predict(outputs, row_form):
    """The response object for `outputs` ``{name: array}``.

    Args:
        outputs: ``{output_name: array}``, batch first.
        row_form: answer a row-form request (``"predictions"``, one entry
            per example) or a column-form one (``"outputs"``).

    Example:

    >>> import numpy as np
    >>> outputs = {"label": np.array([1, 0]),
    ...            "probabilities": np.array([[0.25], [0.5]])}
    >>> format_predict(outputs, row_form=True)  # doctest: +NORMALIZE_WHITESPACE
    {'predictions': [{'label': 1, 'probabilities': [0.25]},
                     {'label': 0, 'probabilities': [0.5]}]}
    >>> format_predict(outputs, row_form=False)
    {'outputs': {'label': [1, 0], 'probabilities': [[0.25], [0.5]]}}
    """
    names = sorted(outputs)
    if not row_form:
        if len(names) == 1:
            return {"outputs": jsonable(outputs[names[0]], names[0])}
        return {"outputs": {n: jsonable(outputs[n], n) for n in names}}
    batch = None
    for n in names:
        array = np.asarray(outputs[n])
        if array.ndim == 0:
            raise ServingError(
                "INVALID_ARGUMENT",
                f"Tensor name: {n} has no shape information; ask for the "
                "column ('inputs') form",
            )
        if batch is None:
            batch = array.shape[0]
        elif array.shape[0] != batch:
            raise ServingError(
                "INVALID_ARGUMENT",
                f"Tensor name: {n} has inconsistent batch size: "
                f"{array.shape[0]} expecting: {batch}",
            )
    if len(names) == 1:
        return {"predictions": jsonable(outputs[names[0]], names[0])}
    columns = {n: jsonable(outputs[n], n) for n in names}
    return {
        "predictions": [{n: columns[n][i] for n in names} for i in range(batch)]
    }


def dumps(obj):
    """JSON text as TF Serving writes it (NaN/Infinity allowed).

    Example:

    >>> dumps({"predictions": [[float("nan"), 1.0]]})
    '{"predictions":[[NaN,1.0]]}'
    """
    return json.dumps(obj, allow_nan=True, separators=(",", ":"))
