"""What every refnn model shares: atomic saves and checked `fit` inputs.

`ModelMixin` goes first in a model's bases (``class MLP(ModelMixin,
keras.Model)``):

* ``save("m.keras")`` is atomic (`refnn.saving.AtomicSaveMixin`): a failed
  save leaves an existing file byte for byte.
* ``fit`` on NumPy arrays refuses NaN/inf features, targets or sample
  weights with the argument, index and value, instead of training to a NaN
  loss (shapes are left to Keras: per-token weights stay valid); datasets
  and tensors pass unchanged (`refnn.data.make_dataset` checks its arrays
  when it builds them).
"""

import numpy as np

from refnn.data.pipeline import first_non_finite
from refnn.saving import AtomicSaveMixin


def _check_fit_arrays(x, y, sample_weight):
    """NaN/inf in NumPy inputs is an error; shapes are left to Keras."""
    if isinstance(x, dict):
        leaves = {f"x[{k!r}]": v for k, v in x.items()}
    else:
        leaves = {"x": x}
    leaves.update(y=y, sample_weight=sample_weight)
    for name, value in leaves.items():
        if isinstance(value, list):
            try:
                value = np.asarray(value)
            except ValueError:  # ragged: Keras will say so
                continue
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            first_non_finite(value, name)


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
