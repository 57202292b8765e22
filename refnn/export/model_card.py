"""The model card written into every export: ``assets/refnn.json``.

A SavedModel says what it computes (its signatures) but not where it came
from. The card records what a user needs to trust or reproduce it: the refnn,
Keras and TensorFlow versions, the model's class and config, the signatures
and whatever the trainer passes (``training_data``, ``metrics``,
``hyperparameters``, ``input_scaling``). TF Serving ignores ``assets/``
files it does not use, so the card travels with the model at no cost.
"""

import datetime
import json
from pathlib import Path

MODEL_CARD = Path("assets") / "refnn.json"


def _jsonable(value):
    """`value` with anything JSON cannot hold written as its repr."""
    return json.loads(json.dumps(value, default=repr))


def _signature_summary(signatures):
    summary = {}
    for endpoint, entry in signatures.items():
        _, specs = entry
        summary[endpoint] = {name: repr(spec) for name, spec in specs.items()}
    return summary


def build_model_card(model, signatures, card=None):
    """The card's dict (see the module docstring).

    Args:
        model: the exported Keras model.
        signatures: ``{endpoint: (fn, {input_name: spec})}`` as given to
            `export_savedmodel`.
        card: extra JSON-serializable facts (``metrics``,
            ``training_data``, ...); they win over the computed keys.

    Returns:
        A JSON-ready dict: versions, ``model_class``, ``model_config``,
        ``parameters``, ``signatures`` and the keys of `card`.

    Example:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> specs = {"features": ((None, 4), "float32")}
    >>> signatures = {"serving_default": (None, specs)}
    >>> card = build_model_card(model, signatures, {"metrics": {"mse": 0.1}})
    >>> card["model_class"], card["parameters"]  # 4 * 3 weights + 3 biases
    ('Sequential', 15)
    >>> card["signatures"], card["metrics"]
    ({'serving_default': {'features': "((None, 4), 'float32')"}}, {'mse': 0.1})
    """
    import keras
    import tensorflow as tf

    import refnn

    try:
        config = model.get_config()
    except NotImplementedError:
        config = None
    result = {
        "refnn_version": refnn.__version__,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "created_utc": datetime.datetime.now(datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat(),
        "model_class": type(model).__name__,
        "model_config": config,
        "parameters": int(model.count_params()) if model.built else None,
        "signatures": _signature_summary(signatures),
    }
    result.update(card or {})
    return _jsonable(result)


def write_model_card(export_dir, model, signatures, card=None):
    """Writes ``export_dir/assets/refnn.json``; returns its path.

    `export_savedmodel` calls it for every export; the arguments are those
    of `build_model_card`.

    Example:

    >>> import shutil, tempfile
    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> folder = tempfile.mkdtemp()
    >>> path = write_model_card(folder, model, {}, {"training_data": "xor"})
    >>> path.relative_to(folder).as_posix()
    'assets/refnn.json'
    >>> read_model_card(folder)["training_data"]
    'xor'
    >>> shutil.rmtree(folder)
    """
    path = Path(export_dir) / MODEL_CARD
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(build_model_card(model, signatures, card), indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_model_card(export_dir):
    """The card of an export (a version folder), or ``None`` if it has none.

    Args:
        export_dir: the version folder (``savedmodels/NAME/VERSION``).

    Returns:
        The card's dict, or ``None`` for an export without a card.

    Raises:
        ValueError: the card exists but is not valid JSON.

    Example:

    >>> import shutil, tempfile
    >>> import keras
    >>> from refnn.export import export_savedmodel
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> base_dir = tempfile.mkdtemp()
    >>> path = export_savedmodel(model, "demo", base_dir=base_dir,
    ...                          card={"metrics": {"accuracy": 0.75}})
    >>> card = read_model_card(path)
    >>> card["model_class"], card["parameters"], card["metrics"]
    ('Sequential', 3, {'accuracy': 0.75})
    >>> print(read_model_card(base_dir))  # not an export: no card
    None
    >>> shutil.rmtree(base_dir)
    """
    path = Path(export_dir) / MODEL_CARD
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(
            f"the model card {str(path)!r} is corrupt: {e}"
        ) from None
