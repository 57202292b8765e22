"""refnn's global settings: the fast path switch.

refnn's layers are written twice over where speed asks for it: the
reference path (`refnn/layers/`, `keras.ops` only, the seed's formulas as a
learner reads them) and TensorFlow-specific kernels (`refnn/kernels/`:
hand-written backpropagation through time, leaner attention, a cheaper
dropout mask), proved equal to the reference path by tests. The kernels
run only under the TensorFlow backend and only while the fast path is on
(the default). Switch it off to run exactly the code you read:

>>> import refnn
>>> refnn.config.set_fast_path(False)
>>> refnn.config.fast_path_enabled()
False
>>> refnn.config.set_fast_path(True)

or for a block of code:

>>> with refnn.config.fast_path(False):
...     refnn.config.fast_path_enabled()
False
"""

import contextlib
import os

# `REFNN_FAST_PATH=0` in the environment starts with the fast path off
# (e.g. `REFNN_FAST_PATH=0 pytest tests/layers`).
_fast_path = os.environ.get("REFNN_FAST_PATH", "1") not in ("0", "false")


def _check_enabled(enabled):
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool, got {enabled!r}.")
    return enabled


def set_fast_path(enabled):
    """Turns the TensorFlow fast path (`refnn/kernels/`) on or off.

    Takes effect for layers called (or functions traced) afterwards; a
    `tf.function` already traced keeps the path it was traced with.

    Args:
        enabled: bool; `False` runs the reference layers only.
    """
    global _fast_path
    _fast_path = _check_enabled(enabled)


def fast_path_enabled():
    """Whether the fast path is on (it runs only under TensorFlow)."""
    return _fast_path


@contextlib.contextmanager
def fast_path(enabled):
    """Context manager: `set_fast_path(enabled)` inside the block only."""
    previous = _fast_path
    set_fast_path(enabled)
    try:
        yield
    finally:
        set_fast_path(previous)
