"""Request batching: rows of concurrent requests run as one batch.

Like TF Serving's ``--enable_batching``: requests to the same signature of
the same version whose inputs all have a batch dimension (and equal other
dimensions and dtypes) are queued; the first one waits up to
``batch_timeout_micros`` for others (or until ``max_batch_size`` rows are
queued), then the rows run in one call and each request gets its own rows
back. If the joint call fails (e.g. one request holds a bad token id),
each request is run on its own, so one bad request never fails another.
"""

import threading

import numpy as np

from refnn.serving.errors import ServingError


class _Pending:
    def __init__(self, arrays, rows):
        self.arrays = arrays
        self.rows = rows
        self.done = threading.Event()
        self.result = None
        self.error = None


class _Queue:
    def __init__(self):
        self.items = []
        self.rows = 0
        self.full = threading.Event()


class Batcher:
    """Batches concurrent `Signature` calls.

    Args:
        max_batch_size: the most rows run in one call (>= 1).
        batch_timeout_micros: how long the first request of a batch waits.
    """

    def __init__(self, max_batch_size=32, batch_timeout_micros=1000):
        if max_batch_size < 1:
            raise ValueError(
                f"max_batch_size must be >= 1, got {max_batch_size}."
            )
        if batch_timeout_micros < 0:
            raise ValueError(
                "batch_timeout_micros must be >= 0, got "
                f"{batch_timeout_micros}."
            )
        self.max_batch_size = max_batch_size
        self.timeout = batch_timeout_micros / 1e6
        self._lock = threading.Lock()
        self._queues = {}
        self.batches_run = 0  # joint calls made (for tests and metrics)

    def run(self, servable, signature, arrays):
        """`signature(arrays)`, possibly joined with concurrent requests."""
        rows = _batch_rows(signature, arrays)
        if rows is None or rows >= self.max_batch_size:
            return signature(arrays)
        key = (
            id(servable),
            signature.name,
            tuple(
                (k, a.shape[1:], a.dtype.str) for k, a in sorted(arrays.items())
            ),
        )
        pending = _Pending(arrays, rows)
        with self._lock:
            queue = self._queues.get(key)
            leader = queue is None
            if leader:
                queue = self._queues[key] = _Queue()
            queue.items.append(pending)
            queue.rows += rows
            if queue.rows >= self.max_batch_size:
                del self._queues[key]  # closed: later requests start anew
                queue.full.set()
        if leader:
            queue.full.wait(self.timeout)
            with self._lock:
                if self._queues.get(key) is queue:
                    del self._queues[key]
            self._execute(signature, queue.items)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _execute(self, signature, items):
        try:
            if len(items) == 1:
                _run_one(signature, items[0])
                return
            joined = {
                k: np.concatenate([p.arrays[k] for p in items])
                for k in items[0].arrays
            }
            try:
                outputs = signature(joined)
            except ServingError:
                for p in items:  # find who is at fault: run each alone
                    _run_one(signature, p)
                return
            self.batches_run += 1
            total = sum(p.rows for p in items)
            per_row = all(
                np.ndim(v) > 0 and len(v) == total for v in outputs.values()
            )
            if not per_row:
                for p in items:  # outputs not per row: cannot split
                    _run_one(signature, p)
                return
            start = 0
            for p in items:
                end = start + p.rows
                p.result = {k: v[start:end] for k, v in outputs.items()}
                start = end
        except Exception as e:  # never leave a waiting request hanging
            for p in items:
                if p.result is None and p.error is None:
                    p.error = e
        finally:
            for p in items:
                p.done.set()

    def stop(self):
        """Nothing to stop: batches run on the requests' own threads."""


def _run_one(signature, pending):
    try:
        pending.result = signature(pending.arrays)
    except ServingError as e:
        pending.error = e


def _batch_rows(signature, arrays):
    """Rows in the request, or None if an input has no batch dimension."""
    rows = None
    for name, spec in signature.inputs.items():
        if spec.shape is None or not spec.shape or spec.shape[0] is not None:
            return None
        n = arrays[name].shape[0]
        if rows is not None and n != rows:
            return None
        rows = n
    return rows
