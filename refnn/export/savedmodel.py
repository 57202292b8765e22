"""SavedModel export in TF Serving's layout, with named signatures.

`export_savedmodel` writes ``base_dir/NAME/VERSION/`` (``saved_model.pb`` and
``variables/``), the layout TF Serving watches. Serve a model with::

    docker run -p 8501:8501 \\
        -v "$PWD/savedmodels/NAME:/models/NAME" -e MODEL_NAME=NAME \\
        tensorflow/serving
    # or, with the binary:
    tensorflow_model_server --rest_api_port=8501 --model_name=NAME \\
        --model_base_path="$PWD/savedmodels/NAME"

``--model_base_path`` is the ``NAME`` folder (not a version folder): the server
loads the highest integer version it finds there and picks up new versions as
they appear. Query it over REST::

    curl -d '{"instances": [[0.1, 0.2, 0.3, 0.4]]}' \\
        http://localhost:8501/v1/models/NAME:predict
    # several named inputs, column ("inputs") form:
    curl -d '{"signature_name": "serving_default",
              "inputs": {"features": [[0.1, 0.2, 0.3, 0.4]]}}' \\
        http://localhost:8501/v1/models/NAME:predict

Inspect an export with ``saved_model_cli show --dir savedmodels/NAME/1 --all``
(installed with TensorFlow) or with `describe` below.

A model declares its endpoints with a ``serving_signatures()`` method that
returns ``{endpoint: (fn, {input_name: (shape, dtype)})}``; ``None`` marks a
variable dimension (batch, sequence length). ``fn`` is called with keyword
arguments named like the inputs and returns a dict of named tensors (a bare
tensor is named ``outputs``). Models without the method get one
``serving_default`` endpoint, ``features`` -> ``outputs``, inferred from the
built model's input shape.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from refnn.export.model_card import write_model_card

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def _validate_name(name):
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(
            "name must be a non-empty string of letters, digits, '_', '-' or "
            f"'.' (no path separators), got {name!r}."
        )
    if name in (".", ".."):
        raise ValueError(f"name must not be '.' or '..', got {name!r}.")


def _existing_versions(model_dir):
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.name.isdigit())


def _as_tf_dtype(input_name, dtype):
    if dtype in ("string", "str", str):
        return tf.string
    try:
        return tf.as_dtype(dtype)
    except TypeError:
        pass
    try:
        return tf.as_dtype(np.dtype(dtype))
    except TypeError:
        raise TypeError(
            f"the dtype of input {input_name!r} is not understood, got "
            f"{dtype!r}."
        ) from None


def _to_spec(input_name, spec):
    if isinstance(spec, tf.TensorSpec):
        return tf.TensorSpec(spec.shape, spec.dtype, name=input_name)
    if isinstance(spec, keras.InputSpec):
        return tf.TensorSpec(spec.shape, spec.dtype, name=input_name)
    try:
        shape, dtype = spec
    except (TypeError, ValueError):
        raise TypeError(
            f"the spec of input {input_name!r} must be a (shape, dtype) pair, "
            f"got {spec!r}."
        ) from None
    dtype = _as_tf_dtype(input_name, dtype)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(
            f"the shape of input {input_name!r} must be a tuple of ints or "
            f"None, got {shape!r}."
        ) from None
    return tf.TensorSpec(shape, dtype, name=input_name)


def _wrap_endpoint(endpoint, fn, names):
    """A positional function (for the input signature) calling `fn(**kw)`."""

    def serving_fn(*args):
        outputs = fn(**dict(zip(names, args)))
        if not isinstance(outputs, dict):
            outputs = {"outputs": outputs}
        return {str(k): tf.convert_to_tensor(v) for k, v in outputs.items()}

    serving_fn.__name__ = f"serve_{re.sub(r'[^A-Za-z0-9_]', '_', endpoint)}"
    return serving_fn


def classifier_signatures(model, num_features, input_name="features"):
    """A `serving_default` endpoint for any probability-output classifier.

    ``features (batch, num_features)`` -> ``probabilities (batch, classes)``
    and ``label`` (the arg-max), for Keras models whose last layer is a
    softmax (tutorials 04-07 use it for their `Sequential` classifiers).

    Args:
        model: a Keras model mapping features to class probabilities.
        num_features: the width of one input row.
        input_name: the signature's input name.

    Returns:
        ``{"serving_default": (fn, {input_name: ((None, num_features),
        "float32")})}``, ready for `export_savedmodel(signatures=...)`.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    >>> fn, specs = classifier_signatures(model, 4)["serving_default"]
    >>> specs
    {'features': ((None, 4), 'float32')}
    >>> out = fn(features=np.ones((2, 4), "float32"))
    >>> out["probabilities"].shape, out["label"].shape
    (TensorShape([2, 3]), TensorShape([2]))
    >>> np.array_equal(out["label"], np.argmax(out["probabilities"], -1))
    True
    """
    if not isinstance(num_features, int) or num_features <= 0:
        raise ValueError(
            f"num_features must be a positive integer, got {num_features!r}."
        )

    def serve(**inputs):
        probs = model(inputs[input_name], training=False)
        return {
            "probabilities": probs,
            "label": keras.ops.argmax(probs, axis=-1),
        }

    spec = {input_name: ((None, num_features), "float32")}
    return {"serving_default": (serve, spec)}


def default_signatures(model):
    """The `serving_default` signature inferred from a built model's inputs.

    Returns ``{"serving_default": (fn, {"features": (shape, dtype)})}`` for a
    single-input model (``shape`` with ``None`` batch) or one input per model
    input name for multi-input functional models. ``fn`` returns
    ``{"outputs": y}`` (or the model's own dict of outputs).

    Raises:
        ValueError: the model is not built.

    Example:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> fn, specs = default_signatures(model)["serving_default"]
    >>> specs
    {'features': ((None, 4), 'float32')}
    >>> fn(features=keras.ops.ones((2, 4)))["outputs"].shape
    TensorShape([2, 3])
    """
    if not getattr(model, "built", False):
        raise ValueError(
            f"Cannot infer a serving signature: model {model.name!r} is not "
            "built. Call it on data (or build it) first, define "
            "serving_signatures(), or pass signatures=."
        )
    specs = None
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if inputs:
        if len(inputs) == 1:
            x = inputs[0]
            specs = {"features": ((None,) + tuple(x.shape[1:]), x.dtype)}
        else:
            specs = {
                x.name: ((None,) + tuple(x.shape[1:]), x.dtype) for x in inputs
            }
    else:
        # Layer.get_build_config: {"input_shape": ...} for one input, or
        # {"shapes_dict": {...}}; None for a layer built without a shape.
        build = model.get_build_config() or {}
        shapes = build.get("shapes_dict") or (
            {"input_shape": build["input_shape"]}
            if "input_shape" in build
            else {}
        )
        if len(shapes) == 1 and list(shapes.values())[0] is not None:
            (shape,) = shapes.values()
            dtype = getattr(model, "input_dtype", None) or "float32"
            specs = {"features": ((None,) + tuple(shape[1:]), dtype)}
    if specs is None:
        raise ValueError(
            f"Cannot infer a serving signature for model {model.name!r}: its "
            "input shape is unknown. Define serving_signatures() or pass "
            "signatures=."
        )
    names = list(specs)

    def serve(**kwargs):
        x = kwargs["features"] if names == ["features"] else kwargs
        y = model(x, training=False)
        return y if isinstance(y, dict) else {"outputs": y}

    return {"serving_default": (serve, specs)}


def check_finite_weights(model):
    """Raises `ValueError` naming the first weight holding NaN or inf.

    Args:
        model: a built Keras model (or layer).

    Raises:
        ValueError: with the weight's path, the bad value, its index and
            how many values are not finite.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> model = keras.Sequential(
    ...     [keras.Input((2,)), keras.layers.Dense(1, name="out")])
    >>> check_finite_weights(model)  # finite: returns None
    >>> model.set_weights([np.array([[0.5], [np.nan]]), np.zeros(1)])
    >>> check_finite_weights(model)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...out/kernel holds nan at index (1, 0) (1 of 2 values); ...
    """
    for variable in model.weights:
        value = keras.ops.convert_to_numpy(variable)
        if value.dtype.kind not in "fc":
            continue
        bad = ~np.isfinite(value)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"model {model.name!r} has non-finite weights: "
                f"{variable.path} holds {value[bad][0].item()!r} at index "
                f"{index} ({int(bad.sum())} of {value.size} values); "
                "training diverged (try a smaller learning rate). Pass "
                "allow_nonfinite=True (refnn train/export: --allow-nonfinite) "
                "to export it anyway."
            )


def export_savedmodel(
    model,
    name,
    version=None,
    base_dir="savedmodels",
    signatures=None,
    card=None,
    allow_nonfinite=False,
):
    """Exports `model` as ``base_dir/name/version/`` for TF Serving.

    Args:
        model: a built Keras model (or layer).
        name: the model name: the folder under `base_dir` (no separators).
        version: positive integer version; defaults to one more than the
            highest existing version (1 for a new model).
        base_dir: the export base folder (TF Serving's model base's parent).
        signatures: ``{endpoint: (fn, {input_name: (shape, dtype)})}``;
            defaults to ``model.serving_signatures()`` if defined, else the
            signature inferred by `default_signatures`.
        card: JSON-serializable facts for the model card
            ``assets/refnn.json`` (e.g. ``training_data``, ``metrics``,
            ``hyperparameters``, ``input_scaling``); refnn's version, the
            model's class and config and the signatures are always added.
        allow_nonfinite: export even if a weight is NaN or infinite (by
            default such a model is refused: it would serve garbage).

    Returns:
        The `pathlib.Path` of the version folder written.

    Raises:
        ValueError: bad `name` or `version`, an existing version, an unbuilt
            model, a malformed signature or non-finite weights. Existing
            versions are never touched: the export is written to a hidden
            temporary folder beside them and renamed when complete, so a
            version folder is either whole or absent.

    Example:

    A logistic regression with w = (1, −1), b = 0 serves ŷ = σ(x₁ − x₂):

    >>> import shutil, tempfile
    >>> import numpy as np
    >>> from refnn.models import LogisticRegression
    >>> model = LogisticRegression()
    >>> model.build((None, 2))
    >>> model.set_weights([np.array([[1.0], [-1.0]]), np.zeros(1)])
    >>> base_dir = tempfile.mkdtemp()
    >>> path = export_savedmodel(model, "demo", base_dir=base_dir)
    >>> path.relative_to(base_dir).as_posix()  # NAME/VERSION, version 1
    'demo/1'
    >>> serve = load_savedmodel(path).signatures["serving_default"]
    >>> out = serve(features=np.array([[2.0, 1.0]], "float32"))
    >>> sorted(out)
    ['label', 'probabilities']
    >>> round(float(out["probabilities"][0, 0]), 4)  # σ(1) = 1/(1 + e⁻¹)
    0.7311
    >>> out["label"].numpy().tolist()
    [1]
    >>> shutil.rmtree(base_dir)
    """
    _validate_name(name)
    if card is not None and not isinstance(card, dict):
        raise TypeError(f"card must be a dict or None, got {card!r}.")
    if not allow_nonfinite:
        check_finite_weights(model)
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        raise ValueError(
            f"version must be a positive integer or None, got {version!r}."
        )
    if signatures is None:
        if hasattr(model, "serving_signatures"):
            signatures = model.serving_signatures()
        else:
            signatures = default_signatures(model)
    if not isinstance(signatures, dict) or not signatures:
        raise ValueError(
            "signatures must be a non-empty dict {endpoint: (fn, {input: "
            f"(shape, dtype)}})}}, got {signatures!r}."
        )

    model_dir = Path(base_dir) / name
    if version is None:
        existing = _existing_versions(model_dir)
        version = existing[-1] + 1 if existing else 1
    final = model_dir / str(version)
    if final.exists():
        raise ValueError(
            f"version {version} of {name!r} already exists at {final}; "
            "refusing to overwrite it (pass another version or None)."
        )

    archive = keras.export.ExportArchive()
    archive.track(model)
    for endpoint, entry in signatures.items():
        try:
            fn, specs = entry
        except (TypeError, ValueError):
            raise ValueError(
                f"signature {endpoint!r} must be (fn, {{input: (shape, "
                f"dtype)}}), got {entry!r}."
            ) from None
        if not isinstance(specs, dict) or not specs:
            raise ValueError(
                f"the inputs of signature {endpoint!r} must be a non-empty "
                f"dict {{name: (shape, dtype)}}, got {specs!r}."
            )
        names = list(specs)
        input_signature = [_to_spec(n, specs[n]) for n in names]
        archive.add_endpoint(
            endpoint, _wrap_endpoint(endpoint, fn, names), input_signature
        )

    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=model_dir))
    try:
        archive.write_out(str(tmp), verbose=False)
        write_model_card(tmp, model, signatures, card)
        # mkdtemp made it private (0700); give it the model folder's mode so
        # a server running as another user can read it.
        mode = model_dir.stat().st_mode & 0o777
        for folder, dirs, _ in os.walk(tmp):
            os.chmod(folder, mode)
        if final.exists():  # a concurrent export got there first
            raise ValueError(
                f"version {version} of {name!r} appeared at {final} during "
                "the export; refusing to overwrite it."
            )
        os.rename(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def load_savedmodel(path):
    """Loads an export with plain TensorFlow (`tf.saved_model.load`).

    Args:
        path: a version folder, or a model folder (its highest version).

    Returns:
        The loaded object; call ``obj.signatures["serving_default"](**inputs)``.

    Example:

    A `Dense(1)` with all-ones kernel and zero bias sums its features:

    >>> import shutil, tempfile
    >>> import keras
    >>> import numpy as np
    >>> dense = keras.layers.Dense(1, kernel_initializer="ones")
    >>> model = keras.Sequential([keras.Input((3,)), dense])
    >>> base_dir = tempfile.mkdtemp()
    >>> _ = export_savedmodel(model, "sum", base_dir=base_dir)
    >>> loaded = load_savedmodel(f"{base_dir}/sum")  # its highest version
    >>> serve = loaded.signatures["serving_default"]
    >>> out = serve(features=np.array([[1.0, 2.0, 3.0]], "float32"))
    >>> out["outputs"].numpy().tolist()  # 1 + 2 + 3
    [[6.0]]
    >>> shutil.rmtree(base_dir)
    """
    return tf.saved_model.load(str(resolve_version(path)))


def resolve_version(path):
    """Returns `path` if it holds a SavedModel, else its highest version.

    Args:
        path: a version folder (holding ``saved_model.pb``) or a model
            folder holding integer version folders.

    Returns:
        A `pathlib.Path`: `path` itself, or its highest version folder that
        holds a ``saved_model.pb`` (an unfinished one is passed over).

    Raises:
        FileNotFoundError: neither is found.

    Example:

    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> model_dir = Path(tempfile.mkdtemp()) / "demo"
    >>> for version in (1, 2):
    ...     (model_dir / str(version)).mkdir(parents=True)
    ...     (model_dir / str(version) / "saved_model.pb").touch()
    >>> (model_dir / "3").mkdir()  # no saved_model.pb: skipped
    >>> resolve_version(model_dir).name
    '2'
    >>> resolve_version(model_dir / "1").name
    '1'
    >>> shutil.rmtree(model_dir.parent)
    """
    path = Path(path)
    if (path / "saved_model.pb").exists():
        return path
    versions = _existing_versions(path)
    for v in reversed(versions):
        if (path / str(v) / "saved_model.pb").exists():
            return path / str(v)
    raise FileNotFoundError(f"no SavedModel found at {str(path)!r}.")


def _spec_dict(spec):
    return {
        "dtype": spec.dtype.name,
        "shape": [None if d is None else int(d) for d in spec.shape],
    }


def describe(path):
    """Lists an export's signatures, like ``saved_model_cli show --all``.

    Returns:
        ``{endpoint: {"inputs": {name: {"dtype", "shape"}},
        "outputs": {name: {"dtype", "shape"}}}}`` (shape dims ``None`` when
        variable).

    Example:

    >>> import shutil, tempfile
    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> base_dir = tempfile.mkdtemp()
    >>> path = export_savedmodel(model, "demo", base_dir=base_dir)
    >>> describe(path)  # doctest: +NORMALIZE_WHITESPACE
    {'serving_default':
     {'inputs': {'features': {'dtype': 'float32', 'shape': [None, 4]}},
      'outputs': {'outputs': {'dtype': 'float32', 'shape': [None, 3]}}}}
    >>> shutil.rmtree(base_dir)
    """
    loaded = load_savedmodel(path)
    result = {}
    for endpoint, fn in sorted(loaded.signatures.items()):
        _, kwargs = fn.structured_input_signature
        result[endpoint] = {
            "inputs": {k: _spec_dict(s) for k, s in sorted(kwargs.items())},
            "outputs": {
                k: _spec_dict(s)
                for k, s in sorted(fn.structured_outputs.items())
            },
        }
    return result
