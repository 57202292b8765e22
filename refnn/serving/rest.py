"""TF Serving's REST API as a FastAPI app (served by uvicorn).

The routes are TF Serving's (``/v1/models/NAME[/versions/N|/labels/L]``
with ``:predict``, ``:classify``, ``:regress``, ``/metadata``) plus
``/monitoring/prometheus/metrics``; every request is handled by the
framework-free `refnn.serving.service.ModelService.handle_rest`.
"""

import re
import time

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from refnn.serving import contract
from refnn.serving.metrics import log_access

_MODEL_RE = re.compile(r"/v1/models/([^/:]+)")
_JSON = "application/json"
HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET",
    "Access-Control-Allow-Headers": "Content-Type",
}


class _TooLarge(Exception):
    pass


async def _read_body(request, limit):
    length = request.headers.get("content-length")
    if (
        limit
        and length is not None
        and length.isdigit()
        and int(length) > limit
    ):
        raise _TooLarge(int(length))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if limit and size > limit:
            raise _TooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(service, metrics, max_request_bytes=0):
    """The FastAPI app answering TF Serving's REST API.

    Args:
        service: a `refnn.serving.service.ModelService`.
        metrics: a `refnn.serving.metrics.Metrics`.
        max_request_bytes: bodies larger than this get 413 (0: no limit).
    """
    app = FastAPI(
        title="refnn serve", docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.get("/monitoring/prometheus/metrics")
    def prometheus():
        return Response(
            metrics.render(), media_type="text/plain; version=0.0.4"
        )

    @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def tf_serving(request: Request):
        start = time.perf_counter()
        path = request.url.path
        method = request.method
        m = _MODEL_RE.match(path)
        model = m.group(1) if m else ""
        if model not in service.manager.configs:
            model = "_unknown"  # bounded metric labels, whatever is sent
        try:
            body = await _read_body(request, max_request_bytes)
        except _TooLarge as e:
            status, result = (
                413,
                {
                    "error": f"Request body of {e.args[0]} bytes exceeds the "
                    f"limit of {max_request_bytes} bytes (--max-request-bytes)"
                },
            )
            body = b""
        else:
            if path.startswith("/v1/"):
                status, result = await run_in_threadpool(
                    service.handle_rest, method, path, body
                )
            else:
                status, result = 404, {"error": f"Not found: {method} {path}"}
        try:
            text = contract.dumps(result)
        except ValueError as e:  # an output that JSON cannot hold
            status, text = 500, contract.dumps({"error": str(e)})
        seconds = time.perf_counter() - start
        verb = path.rsplit(":", 1)[-1].lower() if ":" in path else ""
        if verb not in ("predict", "classify", "regress"):
            verb = "metadata" if path.endswith("/metadata") else "status"
            verb = verb if method == "GET" else method.lower()
        metrics.observe(model, "rest", verb, status, seconds)
        peer = request.client.host if request.client else ""
        log_access("rest", method, path, status, seconds, len(body), peer)
        return Response(
            text, status_code=status, media_type=_JSON, headers=HEADERS
        )

    return app
