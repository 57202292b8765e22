"""What every refnn model shares: atomic saves and checked `fit` inputs.

`ModelMixin` goes first in a model's bases (``class MLP(ModelMixin,
keras.Model)``):

* ``save("m.keras")`` is atomic (`refnn.saving.AtomicSaveMixin`): a failed
  save leaves an existing file byte for byte.
* ``fit`` on NumPy arrays refuses NaN/inf features, targets or sample
  weights with the argument, index and value (`refnn.data.check_arrays`),
  instead of training to a NaN loss; datasets and tensors pass unchanged
  (`refnn.data.make_dataset` checks its arrays when it builds them).
"""

import numpy as np

from refnn.data.pipeline import check_arrays
from refnn.saving import AtomicSaveMixin


def _as_array(value):
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, list):
        return np.asarray(value)
    return None


def _check_fit_arrays(x, y, sample_weight):
    if isinstance(x, dict):
        arrays = {k: _as_array(v) for k, v in x.items()}
        x = None if any(v is None for v in arrays.values()) else arrays
    else:
        x = _as_array(x)
    if x is None:
        return
    check_arrays(
        x,
        _as_array(y),
        sample_weight=_as_array(sample_weight),
        allow_strings=True,
        x_min_rank=1,
    )


class ModelMixin(AtomicSaveMixin):
    """Atomic `.keras` saves and NumPy inputs checked by `fit`."""

    def fit(self, *args, **kwargs):
        names = ("x", "y", "batch_size", "epochs", "verbose", "callbacks")
        given = {**dict(zip(names, args)), **kwargs}
        _check_fit_arrays(
            given.get("x"), given.get("y"), given.get("sample_weight")
        )
        validation = given.get("validation_data")
        if isinstance(validation, (tuple, list)) and len(validation) in (2, 3):
            try:
                _check_fit_arrays(*validation, *[None] * (3 - len(validation)))
            except (TypeError, ValueError) as e:
                raise type(e)(f"validation_data: {e}") from None
        return super().fit(*args, **kwargs)
