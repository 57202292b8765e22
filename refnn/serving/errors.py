"""Errors with TF Serving's status codes and their HTTP mapping.

TF Serving answers a failed REST request with ``{"error": "<message>"}`` and
an HTTP status derived from the canonical (gRPC/absl) status code, as in its
``model_servers/http_server.cc``; the gRPC API returns the code itself.
"""

import json

# Canonical code name -> HTTP status (TF Serving's ToHTTPStatusCode).
HTTP_STATUS = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}

# Canonical code numbers (google.rpc.Code / tf.errors error_code).
CODE_NUMBERS = {
    "OK": 0,
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}
CODE_NAMES = {v: k for k, v in CODE_NUMBERS.items()}


class ServingError(Exception):
    """A request error: a canonical code name and a message.

    Args:
        code: a key of `HTTP_STATUS`, e.g. ``"INVALID_ARGUMENT"``.
        message: the text returned to the client.

    Example:

    >>> error = ServingError("NOT_FOUND", "Servable not found for model")
    >>> error.http_status, error.to_json()
    (404, '{"error": "Servable not found for model"}')
    >>> ServingError("NOPE", "x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: code must be one of ['ABORTED', 'ALREADY_EXISTS', ...].
    """

    def __init__(self, code, message):
        if code not in HTTP_STATUS:
            raise ValueError(f"code must be one of {sorted(HTTP_STATUS)}.")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self):
        return HTTP_STATUS[self.code]

    def to_json(self):
        """The REST body: ``{"error": message}``."""
        return json.dumps({"error": self.message})


def invalid(message):
    """A `ServingError` with code ``INVALID_ARGUMENT`` (HTTP 400).

    Example:

    >>> error = invalid("signature_name must be a string")
    >>> error.code, error.http_status
    ('INVALID_ARGUMENT', 400)
    >>> print(error.to_json())
    {"error": "signature_name must be a string"}
    """
    return ServingError("INVALID_ARGUMENT", message)


def from_tf_error(error):
    """A `ServingError` from a `tf.errors.OpError` (same code, message).

    Example:

    >>> import tensorflow as tf
    >>> op_error = tf.errors.InvalidArgumentError(None, None, "bad id")
    >>> error = from_tf_error(op_error)
    >>> error.code, error.http_status, error.message
    ('INVALID_ARGUMENT', 400, 'bad id')
    """
    code = CODE_NAMES.get(getattr(error, "error_code", 2), "UNKNOWN")
    if code == "OK":
        code = "UNKNOWN"
    return ServingError(code, _clean(getattr(error, "message", str(error))))


def _clean(message):
    """Drops TF's graph-execution boilerplate, keeps what went wrong."""
    keep = [
        line
        for line in message.splitlines()
        if line.strip()
        and not line.startswith(
            ("Graph execution error", "Detected at node", "<stack traces")
        )
        and not line.lstrip().startswith("[[{{node")
    ]
    text = " ".join(line.strip() for line in keep) or message
    return text.split(" [Op:")[0]
