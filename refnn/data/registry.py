"""Named datasets for the CLI: ``refnn train mlp --dataset moons``."""

from refnn.data import digits, synthetic

DATASETS = {
    "blobs": synthetic.blobs,
    "xor": synthetic.xor,
    "moons": synthetic.moons,
    "circles": synthetic.circles,
    "spirals": synthetic.spirals,
    "digits": digits.load_digits,
}


def register_dataset(name, fn):
    """Adds ``fn(**kwargs) -> (x, y)`` to `DATASETS` under `name`."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}.")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}.")
    if name in DATASETS and DATASETS[name] is not fn:
        raise ValueError(f"dataset {name!r} is already registered.")
    DATASETS[name] = fn


def get_dataset(name, **kwargs):
    """Returns ``(x, y)`` of the dataset `name` built with `kwargs`.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if name not in DATASETS:
        raise ValueError(
            f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}."
        )
    return DATASETS[name](**kwargs)
