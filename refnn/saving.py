"""Atomic `.keras` saves and loads that know refnn's classes.

`keras.saving.save_model` opens the target file for writing before it
serializes anything, so a save that fails half way (an unbuilt model, a full
disk, Ctrl-C) leaves a truncated file where a good model used to be.
`save_model` writes the archive beside the target and renames it over the
target only once it is complete: an existing file is either replaced by a
whole new archive or left byte for byte as it was.

`load_model` registers every refnn class first and, when a class is still
unknown, says which module has to be imported.
"""

import os
import uuid
from pathlib import Path

import keras


def _check_path(filepath):
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(
            f"filepath must be a str or os.PathLike, got {filepath!r}."
        )
    path = Path(filepath)
    if path.suffix != ".keras":
        raise ValueError(
            f"filepath must end in '.keras', got {str(filepath)!r}."
        )
    if path.is_dir():
        raise ValueError(
            f"filepath {str(filepath)!r} is a directory, not a .keras file."
        )
    if not path.parent.is_dir():
        raise ValueError(
            f"the folder of filepath {str(filepath)!r} does not exist."
        )
    return path


def save_model(model, filepath, overwrite=True, **kwargs):
    """Saves `model` to a `.keras` file atomically (write beside, rename).

    Args:
        model: a Keras model.
        filepath: the target, ending in ``.keras``; its folder must exist.
        overwrite: replace an existing file; ``False`` raises instead.
        **kwargs: passed to `keras.saving.save_model`.

    Returns:
        The `pathlib.Path` written.

    Raises:
        ValueError: a bad `filepath`, or an existing file with
            ``overwrite=False``.
        Any error of the save itself; the target is then untouched.

    Example:

    >>> import os, shutil, tempfile
    >>> from refnn.models import MLP
    >>> model = MLP([3, 1])
    >>> model.build((None, 2))
    >>> folder = tempfile.mkdtemp()
    >>> path = save_model(model, os.path.join(folder, "mlp.keras"))
    >>> path.name, sorted(os.listdir(folder))  # no partial file left behind
    ('mlp.keras', ['mlp.keras'])
    >>> save_model(model, path, overwrite=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: '...mlp.keras' exists; pass overwrite=True to replace it.
    >>> shutil.rmtree(folder)
    """
    path = _check_path(filepath)
    if path.exists() and not overwrite:
        raise ValueError(
            f"{str(path)!r} exists; pass overwrite=True to replace it."
        )
    # Keras wants the '.keras' suffix; the leading dot keeps the partial
    # file from looking like a finished model.
    tmp = path.parent / f".{path.stem}.{uuid.uuid4().hex[:12]}.partial.keras"
    try:
        keras.saving.save_model(model, tmp, overwrite=True, **kwargs)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


class AtomicSaveMixin:
    """Makes `Model.save` atomic for `.keras` files (see `save_model`).

    Put it before `keras.Model` in the bases:
    ``class MLP(AtomicSaveMixin, keras.Model)``. Other formats (``zipped=
    False``, remote paths) go to Keras unchanged.

    Example:

    >>> import os, shutil, tempfile
    >>> from refnn.models import MLP  # refnn's models mix it in
    >>> model = MLP([1])
    >>> model.build((None, 2))
    >>> folder = tempfile.mkdtemp()
    >>> model.save(os.path.join(folder, "mlp.keras"))  # calls save_model
    >>> os.listdir(folder)  # the finished file only, no partial one
    ['mlp.keras']
    >>> shutil.rmtree(folder)
    """

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        if zipped in (None, True) and str(filepath).endswith(".keras"):
            if "://" not in str(filepath):
                save_model(self, filepath, overwrite=overwrite, **kwargs)
                return
        super().save(filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def register_all():
    """Imports every refnn module that defines serializable classes.

    Importing a module runs its `keras.saving.register_keras_serializable`
    decorators, so afterwards `keras.saving.load_model` finds every refnn
    class by its registered name (``"refnn>MLP"``). ``import refnn`` calls
    it; `load_model` calls it again, which costs nothing.

    Example:

    >>> import keras
    >>> register_all()
    >>> keras.saving.get_registered_object("refnn>MLP").__name__
    'MLP'
    """
    import refnn.activations  # noqa: F401
    import refnn.layers  # noqa: F401
    import refnn.losses  # noqa: F401
    import refnn.models  # noqa: F401
    import refnn.text  # noqa: F401
    import refnn.training  # noqa: F401


def load_model(filepath, custom_objects=None, compile=True, **kwargs):
    """`keras.saving.load_model` with every refnn class registered.

    Args:
        filepath: a `.keras` file (e.g. one written by `save_model`).
        custom_objects: classes that are not refnn's, ``{name: cls}``.
        compile: whether to compile the model as it was saved.
        **kwargs: passed to `keras.saving.load_model`.

    Returns:
        The restored model.

    Raises:
        ValueError: a missing file or one that is not a `.keras` archive.
        TypeError: a class the file names is not registered; the message
            says which module to import.

    Example:

    >>> import os, shutil, tempfile
    >>> import numpy as np
    >>> from refnn.models import MLP
    >>> model = MLP([3, 1])
    >>> model.build((None, 2))
    >>> folder = tempfile.mkdtemp()
    >>> path = save_model(model, os.path.join(folder, "m.keras"))
    >>> restored = load_model(path)
    >>> type(restored).__name__
    'MLP'
    >>> x = np.array([[0.1, 0.3], [1.0, -1.0]], "float32")
    >>> np.array_equal(restored.predict(x, verbose=0),
    ...                model.predict(x, verbose=0))
    True
    >>> load_model(os.path.join(folder, "none.keras"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: filepath '...none.keras' is not a file.
    >>> shutil.rmtree(folder)
    """
    path = Path(filepath)
    if not path.is_file():
        raise ValueError(f"filepath {str(filepath)!r} is not a file.")
    register_all()
    try:
        return keras.saving.load_model(
            path, custom_objects=custom_objects, compile=compile, **kwargs
        )
    except TypeError as e:
        missing = _unregistered_class(path)
        if missing is None:
            raise
        name, module = missing
        raise TypeError(
            f"{str(path)!r} uses class {name!r}, which is not registered: "
            f"`import {module}` (the module that defines it) before loading "
            "it, or pass custom_objects={name: cls}."
        ) from e


def _unregistered_class(path):
    """The first ``(class_name, module)`` of the file not known to Keras."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    known = keras.saving.get_custom_objects()
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            registered = node.get("registered_name")
            module = node.get("module")
            if (
                isinstance(registered, str)
                and isinstance(module, str)
                and "class_name" in node
                and not module.startswith("keras")
                and registered not in known
            ):
                return node["class_name"], module
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None
