"""What every refnn model shares: atomic saves and checked `fit` inputs.

`ModelMixin` goes first in a model's bases (``class MLP(ModelMixin,
keras.Model)``):

* ``save("m.keras")`` is atomic (`refnn.saving.AtomicSaveMixin`): a failed
  save leaves an existing file byte for byte.
* ``fit`` on NumPy arrays refuses labels a classifier cannot learn from
  (a class id −1 or ≥ K, a 0/1 target of 2) and NaN/inf features, targets
  or sample weights with the argument, index and value, instead of
  training to a NaN loss (shapes are left to Keras: per-token weights stay
  valid); datasets and tensors pass unchanged (`refnn.data.make_dataset`
  checks its arrays when it builds them).
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


def check_labels(y, name, num_classes=None):
    """Labels a classifier can learn from, else a `ValueError`.

    With `num_classes`, `y` holds class ids: integers in
    ``[0, num_classes)``. Without, `y` holds probabilities or 0/1 targets in
    ``[0, 1]``. The error names the argument, the first bad index and value.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf" or y.size == 0:
        return  # Keras reports non-numeric and empty targets itself
    if num_classes is None:
        bad = (y < 0) | (y > 1)
        want = "targets in [0, 1]"
    else:
        bad = (y < 0) | (y >= num_classes) | (y != np.round(y))
        want = f"class ids, integers in [0, {num_classes})"
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        index = index[0] if len(index) == 1 else index
        raise ValueError(
            f"{name} must hold {want}; got {y[bad][0].item()!r} at index "
            f"{index} ({int(bad.sum())} such value(s) in total)."
        )


class ModelMixin(AtomicSaveMixin):
    """Atomic `.keras` saves and NumPy inputs checked by `fit`."""

    def fit(self, *args, **kwargs):
        names = ("x", "y", "batch_size", "epochs", "verbose", "callbacks")
        given = {**dict(zip(names, args)), **kwargs}
        _check_fit_arrays(
            given.get("x"), given.get("y"), given.get("sample_weight")
        )
        self._check_fit_labels(given.get("y"), "y")
        validation = given.get("validation_data")
        if isinstance(validation, (tuple, list)) and len(validation) in (2, 3):
            try:
                _check_fit_arrays(*validation, *[None] * (3 - len(validation)))
                self._check_fit_labels(validation[1], "y")
            except (TypeError, ValueError) as e:
                raise type(e)(f"validation_data: {e}") from None
        return super().fit(*args, **kwargs)

    def _check_fit_labels(self, y, name):
        """Classifiers check NumPy labels here (see `check_labels`)."""
        del y, name  # models without a label range accept any target
