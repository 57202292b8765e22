"""A user's own data from a file: ``refnn train mlp --data table.csv``.

Two forms, both validated before any training starts:

* ``.csv``: one example per line, numbers separated by commas, the class
  label (an integer ``0..k-1``) in the last column; an optional header line
  of names is skipped.
* ``.npz``: arrays ``x`` (features, ``(n, d)``) and ``y`` (labels,
  ``(n,)``), as written by ``numpy.savez(path, x=x, y=y)``.

Non-numeric cells, NaN/inf, ragged rows and labels that are not
non-negative integers are errors naming the file, line (or index) and value.
"""

import csv
import math
from pathlib import Path

import numpy as np

from refnn.data.pipeline import check_arrays

SUFFIXES = (".csv", ".npz")


def _float(cell, path, line, column):
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(
            f"{path}: line {line}, column {column}: expected a number, "
            f"got {cell!r}."
        ) from None
    if not math.isfinite(value):
        raise ValueError(
            f"{path}: line {line}, column {column}: non-finite value {cell!r}."
        )
    return value


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = [(i, r) for i, r in enumerate(csv.reader(f), 1) if r]
    if rows and not any(_is_number(c) for c in rows[0][1]):
        rows = rows[1:]  # a header line: names only
    if not rows:
        raise ValueError(f"{path}: no data rows.")
    width = len(rows[0][1])
    if width < 2:
        raise ValueError(
            f"{path}: each row needs at least one feature and a label, line "
            f"{rows[0][0]} has {width} column(s)."
        )
    values = []
    for line, row in rows:
        if len(row) != width:
            raise ValueError(
                f"{path}: line {line} has {len(row)} columns, the first row "
                f"has {width}."
            )
        values.append([_float(c, path, line, j + 1) for j, c in enumerate(row)])
    table = np.asarray(values, dtype="float64")
    return table[:, :-1].astype("float32"), table[:, -1]


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"x", "y"} - set(data.files)
            if missing:
                raise ValueError(
                    f"{path}: an .npz data file needs arrays 'x' and 'y', "
                    f"it has {sorted(data.files)}."
                )
            return data["x"], data["y"]
    except (OSError, EOFError) as e:
        raise ValueError(f"{path}: not a readable .npz file ({e}).") from None


def load_file(path):
    """Reads ``(x, y)`` from a ``.csv`` or ``.npz`` file (module docstring).

    Returns:
        ``x`` float32 ``(n, d)`` and ``y`` int64 ``(n,)``.

    Raises:
        ValueError: a missing file, another suffix, or bad content (the
            message names the line or index and the value).
    """
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(
            f"data file must end in .csv or .npz, got {str(path)!r}."
        )
    if not path.is_file():
        raise ValueError(f"data file {str(path)!r} not found.")
    if path.suffix.lower() == ".csv":
        x, y = _read_csv(path)
    else:
        x, y = _read_npz(path)
    x, y = check_arrays(np.asarray(x), np.asarray(y))
    if x.ndim != 2:
        raise ValueError(
            f"{path}: x must have shape (n, features), got {x.shape}."
        )
    if y.ndim != 1:
        raise ValueError(f"{path}: y must have shape (n,), got {y.shape}.")
    whole = y.astype("int64")
    bad = (whole != y) | (whole < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{path}: labels must be integers 0..k-1, got {y[i].item()!r} "
            f"at index {i}."
        )
    return x.astype("float32"), whole
