"""``refnn predict``: one request against an export, without a server.

Reads ``.npy`` / ``.npz`` arrays or TF Serving's REST JSON and answers with
the same JSON as ``refnn serve`` (the shared `refnn.serving.contract`), so
the same input file gives the same answer offline and over HTTP. Every
problem (missing, empty, truncated or corrupt export; unreadable input;
ragged rows; a value the input cannot take) is a `ValueError` with one
clear line.
"""

import json
import zipfile
from pathlib import Path

import numpy as np

from refnn.serving import contract
from refnn.serving.errors import ServingError

# An input file this large takes seconds to read and parse: say so first.
LARGE_INPUT_BYTES = 10_000_000


def load_export(path):
    """A loaded `Servable` for ``NAME/VERSION`` (or ``NAME``: its newest)."""
    from refnn.serving.manager import Servable, versions_on_disk

    path = Path(path)
    if not path.exists():
        raise ValueError(f"no SavedModel found at {str(path)!r}.")
    if not (path / "saved_model.pb").exists():
        versions = versions_on_disk(path)
        if not versions:
            raise ValueError(
                f"no SavedModel found at {str(path)!r}: expected "
                "saved_model.pb or version folders (1/, 2/, ...)."
            )
        path = path / str(versions[-1])
    version = int(path.name) if path.name.isdigit() else 0
    servable = Servable(path.parent.name, version, path).load()
    if servable.error is not None:
        code, message = servable.error
        raise ValueError(
            f"cannot load the SavedModel at {str(path)!r} ({code}): {message}"
        )
    return servable


def _array_for(name, array, spec):
    """A numpy input cast to the signature's dtype when that loses nothing."""
    if spec.dtype == "string":
        if array.dtype.kind not in "OSU":
            raise ValueError(
                f"input {name!r} must hold strings, got dtype {array.dtype}."
            )
        return np.array(
            [v.encode() if isinstance(v, str) else v for v in array.ravel()],
            dtype=object,
        ).reshape(array.shape)
    target = np.dtype(spec.dtype)
    kind = array.dtype.kind
    if kind == "O" or kind in "SU":
        raise ValueError(
            f"input {name!r} must be {spec.dtype}, got dtype {array.dtype}."
        )
    if target.kind in "iu" and kind not in "iu":
        raise ValueError(
            f"input {name!r} takes integers ({spec.dtype}), got dtype "
            f"{array.dtype}."
        )
    return array.astype(target)


def _check_file(path):
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"input file {str(path)!r} not found.")
    if path.suffix.lower() not in (".npy", ".npz", ".json"):
        raise ValueError(
            f"--input must be a .npy, .npz or .json file, got {str(path)!r}."
        )
    return path


def read_arrays(path, specs):
    """``(inputs, row_form)`` from an ``.npy`` (one input, rows) or
    ``.npz`` (named inputs, columns) file, cast to the signature's dtypes
    when that loses nothing.

    Args:
        path: the ``.npy`` or ``.npz`` file.
        specs: the signature's ``{input_name: InputSpec}``.

    Raises:
        ValueError: an unreadable file, an unknown input name, or an array
            the input's dtype cannot hold.

    Example:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from refnn.serving.contract import InputSpec
    >>> specs = {"token_ids": InputSpec("int32", (None, None))}
    >>> path = os.path.join(tempfile.mkdtemp(), "ids.npy")
    >>> np.save(path, np.array([[5, 6, 7]], "int64"))
    >>> inputs, row_form = read_arrays(path, specs)  # .npy: one input, rows
    >>> inputs["token_ids"].dtype, row_form
    (dtype('int32'), True)
    >>> np.save(path, np.array([[0.5, 1.0]]))
    >>> read_arrays(path, specs)
    Traceback (most recent call last):
    ...
    ValueError: input 'token_ids' takes integers (int32), got dtype float64.
    >>> os.remove(path); os.rmdir(os.path.dirname(path))
    """
    path = _check_file(path)
    suffix = path.suffix.lower()
    try:
        loaded = np.load(path, allow_pickle=False)
        if suffix == ".npy":
            arrays = {None: loaded}
        else:
            with loaded:
                arrays = {k: loaded[k] for k in loaded.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(
            f"{str(path)!r} is not a readable {suffix} file: {e}"
        ) from None
    if None in arrays:
        if len(specs) != 1:
            raise ValueError(
                f"an .npy file feeds one input, the signature has "
                f"{sorted(specs)}; use .npz or JSON."
            )
        arrays = {next(iter(specs)): arrays[None]}
    unknown = sorted(set(arrays) - set(specs))
    if unknown:
        raise ValueError(
            f"unknown input {unknown[0]!r} in {str(path)!r}; the "
            f"signature takes {sorted(specs)}."
        )
    return (
        {k: _array_for(k, a, specs[k]) for k, a in arrays.items()},
        suffix == ".npy",
    )


def read_json(path):
    """The decoded JSON request in `path` (a list of rows -> instances).

    Example:

    >>> import os, tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".json",
    ...                                  delete=False) as f:
    ...     _ = f.write("[[1, 2], [3, 4]]")
    >>> read_json(f.name)
    {'instances': [[1, 2], [3, 4]]}
    >>> os.remove(f.name)
    """
    path = _check_file(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"malformed JSON in {str(path)!r}: {e}") from None
    return {"instances": payload} if isinstance(payload, list) else payload


def _run_in_batches(sig, inputs, batch_size, progress):
    """``sig(inputs)``, `batch_size` rows at a time when the rows allow it.

    Inputs and outputs must all share their first (batch) dimension; a
    signature whose first chunk's outputs do not is run on the whole input
    at once. `progress(done, total)` is called after every chunk.
    """
    sizes = {np.shape(a)[0] if np.ndim(a) else None for a in inputs.values()}
    total = sizes.pop() if len(sizes) == 1 else None
    if not batch_size or total is None or total <= batch_size:
        return sig(inputs)
    chunks = []
    for start in range(0, total, batch_size):
        part = {k: a[start : start + batch_size] for k, a in inputs.items()}
        out = sig(part)
        rows = len(next(iter(part.values())))
        if any(np.ndim(v) == 0 or len(v) != rows for v in out.values()):
            return sig(inputs)  # outputs without a batch dimension
        chunks.append(out)
        if progress is not None:
            progress(min(start + batch_size, total), total)
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def predict(
    export_path, input_path, endpoint=None, batch_size=None, progress=None
):
    """Runs one request; returns the TF Serving-style response dict.

    Args:
        export_path: ``savedmodels/NAME/VERSION`` or ``savedmodels/NAME``.
        input_path: a ``.npy``, ``.npz`` or ``.json`` file.
        endpoint: the signature; default: the JSON's ``signature_name`` or
            ``serving_default``.
        batch_size: rows per call of the signature (``None``: all at once);
            the answer is the same either way.
        progress: ``progress(message)``, told of each step that takes
            a while: reading and parsing a file of `LARGE_INPUT_BYTES` or
            more, and, when the rows make more than one batch, each batch
            done (``"rows 2048/200000"``) and the formatting of the answer.

    Returns:
        ``{"predictions": ...}`` for rows (a JSON list, ``"instances"`` or
        an ``.npy`` file), ``{"outputs": ...}`` for columns.

    Raises:
        ValueError: with one line saying what is wrong.

    Example:

    A `Dense(1)` with all-ones kernel and zero bias answers the sum of each
    row, as ``refnn serve`` would over HTTP:

    >>> import json, shutil, tempfile
    >>> from pathlib import Path
    >>> import keras
    >>> from refnn.export import export_savedmodel
    >>> dense = keras.layers.Dense(1, kernel_initializer="ones")
    >>> model = keras.Sequential([keras.Input((3,)), dense])
    >>> base_dir = Path(tempfile.mkdtemp())
    >>> _ = export_savedmodel(model, "sum", base_dir=base_dir)
    >>> request = base_dir / "request.json"
    >>> _ = request.write_text(json.dumps([[1, 2, 3], [0.5, 0, 0]]))
    >>> predict(base_dir / "sum", request)
    {'predictions': [[6.0], [0.5]]}
    >>> shutil.rmtree(base_dir)
    """
    from refnn.serving.service import check_inputs

    note = progress or (lambda message: None)
    servable = load_export(export_path)

    def signature(name):
        if name not in servable.signatures:
            raise ValueError(
                f"unknown endpoint {name!r}; the export has "
                f"{sorted(servable.signatures)}"
            )
        return servable.signatures[name]

    try:
        path = Path(input_path)
        large = path.is_file() and path.stat().st_size >= LARGE_INPUT_BYTES
        if large:
            note(f"reading {path} ({path.stat().st_size / 1e6:.0f} MB)")
        if path.suffix.lower() == ".json":
            payload = read_json(input_path)
            if large:
                note("parsing the JSON request")
            if isinstance(payload, dict) and endpoint:
                named = payload.get("signature_name")
                if named and named != endpoint:
                    raise ValueError(
                        f"--endpoint {endpoint!r} and the JSON's "
                        f"signature_name {named!r} disagree."
                    )
                payload = {**payload, "signature_name": endpoint}
            request = contract.parse_predict(
                payload, lambda s: signature(s).inputs
            )
            sig = signature(request.signature_name)
            inputs, row_form = request.inputs, request.row_form
        else:
            sig = signature(endpoint or contract.DEFAULT_SIGNATURE)
            inputs, row_form = read_arrays(input_path, sig.inputs)
        check_inputs(sig, inputs)
        batches = []  # progress after each batch, when there are several

        def batch_done(done, total):
            batches.append(done)
            note(f"rows {done}/{total}")

        outputs = _run_in_batches(sig, inputs, batch_size, batch_done)
        if large or len(batches) > 1:
            note("formatting the response")
        return contract.format_predict(outputs, row_form)
    except ServingError as e:
        raise ValueError(e.message) from None
