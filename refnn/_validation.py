"""Argument checks shared across refnn: one wording, one rule each.

Each returns the value it accepted (so `self.units = positive_int(...)`)
and raises an error naming the argument and quoting what it got. Bools
are never taken for numbers (`True` is not a size, a rate or an id).

>>> positive_int("units", 4)
4
>>> positive_int("units", True)
Traceback (most recent call last):
...
ValueError: units must be a positive integer, got True.
>>> rate("dropout", 1.0)
Traceback (most recent call last):
...
ValueError: dropout must be a number in [0, 1), got 1.0.
"""


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(name, value, allow_none=False):
    """`value` if it is an int ≥ 1 (or `None` with `allow_none`), else
    `ValueError`."""
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(
            f"{name} must be a positive integer{extra}, got {value!r}."
        )
    return value


def rate(name, value):
    """`float(value)` if it is a number in `[0, 1)`, else `ValueError`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0.0 <= value < 1.0
    ):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}.")
    return float(value)


def boolean(name, value):
    """`value` if it is a bool, else `TypeError`."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {value!r}.")
    return value
