"""Request metrics in Prometheus's text format, and the access log.

Served at ``/monitoring/prometheus/metrics`` (TF Serving's path): request
counts by model, API, method and status code; a latency histogram; and
the number of available versions per model.
"""

import bisect
import json
import logging
import threading
import time

BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip

access_log = logging.getLogger("refnn.serving.access")


class Metrics:
    """Thread-safe counters and a latency histogram.

    Example:

    >>> metrics = Metrics()
    >>> metrics.observe("mlp", "rest", "predict", 200, 0.003)
    >>> metrics.observe("mlp", "rest", "predict", 200, 0.2)
    >>> text = metrics.render()
    >>> [line.split("{")[1] for line in text.splitlines()
    ...  if line.startswith("refnn_serving_request_count{")]
    ['model="mlp",api="rest",method="predict",code="200"} 2']
    >>> # 3 ms falls in the le="0.005" bucket, 0.2 s in le="0.25": the
    >>> # buckets are cumulative.
    >>> [line.split()[-1] for line in text.splitlines()
    ...  if 'le="0.005"' in line or 'le="0.25"' in line]
    ['1', '2']
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = {}  # (model, api, method, code) -> count
        self.latency = {}  # (model, api, method) -> [bucket counts, sum, n]
        self.available = {}  # model -> available versions

    def observe(self, model, api, method, code, seconds):
        """Records one request (`code`: HTTP status or gRPC code name)."""
        key = (model or "", api, method, str(code))
        lkey = key[:3]
        with self._lock:
            self.requests[key] = self.requests.get(key, 0) + 1
            entry = self.latency.get(lkey)
            if entry is None:
                entry = self.latency[lkey] = [[0] * len(BUCKETS), 0.0, 0]
            i = bisect.bisect_left(BUCKETS, seconds)
            if i < len(BUCKETS):
                entry[0][i] += 1
            entry[1] += seconds
            entry[2] += 1

    def render(self):
        """The Prometheus text exposition."""
        out = [
            "# HELP refnn_serving_request_count Requests answered.",
            "# TYPE refnn_serving_request_count counter",
        ]
        with self._lock:
            for (model, api, method, code), n in sorted(self.requests.items()):
                labels = _labels(model=model, api=api, method=method, code=code)
                out.append(f"refnn_serving_request_count{{{labels}}} {n}")
            out += [
                "# HELP refnn_serving_request_latency_seconds Request latency.",
                "# TYPE refnn_serving_request_latency_seconds histogram",
            ]
            for (model, api, method), (counts, total, n) in sorted(
                self.latency.items()
            ):
                base = _labels(model=model, api=api, method=method)
                running = 0
                for bound, c in zip(BUCKETS, counts):
                    running += c
                    out.append(
                        "refnn_serving_request_latency_seconds_bucket"
                        f'{{{base},le="{bound}"}} {running}'
                    )
                out.append(
                    "refnn_serving_request_latency_seconds_bucket"
                    f'{{{base},le="+Inf"}} {n}'
                )
                out.append(
                    f"refnn_serving_request_latency_seconds_sum{{{base}}} "
                    f"{total:.6f}"
                )
                out.append(
                    f"refnn_serving_request_latency_seconds_count{{{base}}} {n}"
                )
            out += [
                "# HELP refnn_serving_available_versions Versions serving.",
                "# TYPE refnn_serving_available_versions gauge",
            ]
            for model, n in sorted(self.available.items()):
                out.append(
                    f"refnn_serving_available_versions{{{_labels(model=model)}}}"
                    f" {n}"
                )
        return "\n".join(out) + "\n"


def _labels(**kv):
    def esc(v):
        return str(v).replace("\\", "\\\\").replace('"', '\\"')

    return ",".join(f'{k}="{esc(v)}"' for k, v in kv.items())


def log_access(api, method, path, code, seconds, nbytes, peer):
    """One JSON line per request on the ``refnn.serving.access`` logger."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            json.dumps(
                {
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "api": api,
                    "method": method,
                    "path": path,
                    "status": code,
                    "ms": round(seconds * 1000, 3),
                    "bytes": nbytes,
                    "peer": peer,
                }
            )
        )
