"""Models and versions on disk -> loaded servables, as TF Serving manages them.

A model is a base folder holding integer version folders
(``savedmodels/NAME/1``, ``.../2``). The version policy (TF Serving's
``model_version_policy``) picks the versions to serve: the latest one by
default, the latest N, all, or specific ones. `ModelManager.poll` loads
versions that appear and unloads those that go: a new version is loaded
completely before it takes traffic, and an unloaded one finishes the
requests that already hold it, so no request fails during the switch. A
version that fails to load (corrupt or half-written) is reported in the
model's status with its error while the others keep serving.
"""

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from refnn.serving.contract import DEFAULT_SIGNATURE, InputSpec
from refnn.serving.errors import ServingError, from_tf_error

log = logging.getLogger("refnn.serving")

# States of tensorflow.serving.ModelVersionStatus.State.
START, LOADING, AVAILABLE, UNLOADING, END = (
    "START",
    "LOADING",
    "AVAILABLE",
    "UNLOADING",
    "END",
)


@dataclass
class ModelConfig:
    """One served model: TF Serving's ``ModelConfig`` (the subset used).

    ``policy`` is ``("latest", n)``, ``("all",)`` or ``("specific", {v})``;
    ``labels`` maps a label (``"stable"``) to a version.
    """

    name: str
    base_path: Path
    policy: tuple = ("latest", 1)
    labels: dict = field(default_factory=dict)


class Signature:
    """One endpoint of a loaded SavedModel."""

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn
        _, kwargs = fn.structured_input_signature
        self.inputs = {
            k: InputSpec(
                s.dtype.name,
                None if s.shape.rank is None else tuple(s.shape.as_list()),
            )
            for k, s in kwargs.items()
        }
        self.outputs = sorted(fn.structured_outputs)

    def __call__(self, arrays):
        import tensorflow as tf

        tensors = {}
        for k, spec in self.inputs.items():
            tensors[k] = tf.constant(arrays[k], dtype=spec.dtype)
        try:
            out = self.fn(**tensors)
        except tf.errors.OpError as e:
            raise from_tf_error(e) from None
        except (TypeError, ValueError) as e:
            raise ServingError("INVALID_ARGUMENT", str(e)) from None
        return {k: v.numpy() for k, v in out.items()}


class Servable:
    """One version of one model: its state, and once loaded, signatures."""

    def __init__(self, name, version, path):
        self.name = name
        self.version = version
        self.path = Path(path)
        self.state = START
        self.error = None  # (code, message) when loading failed
        self.signatures = {}
        self.signature_defs = None  # {name: SignatureDef proto}
        self.fingerprint = _fingerprint(self.path)
        self._loaded = None

    def load(self):
        """Loads the SavedModel; on failure records the error (state END)."""
        import tensorflow as tf

        self.state = LOADING
        try:
            pb = self.path / "saved_model.pb"
            if not pb.is_file():
                raise ServingError(
                    "NOT_FOUND",
                    f"Could not find SavedModel .pb or .pbtxt at supplied "
                    f"export directory path: {self.path}",
                )
            self.signature_defs = _read_signature_defs(pb)
            self._loaded = tf.saved_model.load(str(self.path))
            self.signatures = {
                k: Signature(k, fn) for k, fn in self._loaded.signatures.items()
            }
        except ServingError as e:
            self._fail(e.code, e.message)
        except tf.errors.OpError as e:
            err = from_tf_error(e)
            self._fail(err.code, err.message)
        except Exception as e:  # a corrupt file can raise anything
            self._fail("DATA_LOSS", f"{type(e).__name__}: {e}")
        else:
            self.state = AVAILABLE
            self.error = None
        return self

    def _fail(self, code, message):
        self.state = END
        self.error = (code, " ".join(str(message).split()))  # one line
        self.signatures = {}
        self._loaded = None

    def unload(self):
        self.state = END
        self.signatures = {}
        self._loaded = None

    def signature(self, name):
        name = name or DEFAULT_SIGNATURE
        if name not in self.signatures:
            raise ServingError(
                "INVALID_ARGUMENT",
                f'Serving signature name: "{name}" not found in signature '
                f"def (the model has {sorted(self.signatures)})",
            )
        return self.signatures[name]


def _read_signature_defs(pb_path):
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString(Path(pb_path).read_bytes())
    if not saved.meta_graphs:
        raise ServingError("DATA_LOSS", f"{pb_path} holds no MetaGraphDef")
    return dict(saved.meta_graphs[0].signature_def)


def _fingerprint(path):
    """What changes when a half-written version is completed on disk."""
    stats = []
    for f in ("saved_model.pb", "variables/variables.index"):
        try:
            st = os.stat(path / f)
            stats.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stats.append(None)
    return tuple(stats)


def versions_on_disk(base_path):
    """Integer version folders under `base_path`, sorted.

    Example:

    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> base = Path(tempfile.mkdtemp())
    >>> for name in ("1", "10", "2", "tmp"):
    ...     (base / name).mkdir()
    >>> versions_on_disk(base)  # numerically sorted, "tmp" is not one
    [1, 2, 10]
    >>> versions_on_disk(base / "missing")
    []
    >>> shutil.rmtree(base)
    """
    try:
        entries = list(os.scandir(base_path))
    except OSError:
        return []
    return sorted(
        int(e.name) for e in entries if e.name.isdigit() and e.is_dir()
    )


def aspired_versions(config, on_disk):
    """The versions of `on_disk` that `config.policy` asks to serve.

    TF Serving's version policy: ``("latest", n)`` keeps the ``n`` highest,
    ``("all",)`` keeps every one, ``("specific", {v, ...})`` keeps those
    listed that exist.

    Args:
        config: a `ModelConfig`.
        on_disk: the sorted version numbers found (`versions_on_disk`).

    Returns:
        A sorted list of version numbers.

    Example:

    >>> from pathlib import Path
    >>> on_disk = [1, 2, 5]
    >>> aspired_versions(ModelConfig("m", Path("m")), on_disk)
    [5]
    >>> aspired_versions(ModelConfig("m", Path("m"), ("latest", 2)), on_disk)
    [2, 5]
    >>> aspired_versions(ModelConfig("m", Path("m"), ("all",)), on_disk)
    [1, 2, 5]
    >>> aspired_versions(
    ...     ModelConfig("m", Path("m"), ("specific", {1, 3})), on_disk)
    [1]
    """
    kind = config.policy[0]
    if kind == "all":
        return list(on_disk)
    if kind == "specific":
        return [v for v in on_disk if v in config.policy[1]]
    return list(on_disk[-config.policy[1] :]) if on_disk else []


class ModelManager:
    """Loads the configured models' versions and finds them for requests.

    Args:
        configs: a list of `ModelConfig`.
        on_change: called with no arguments after each load/unload
            (e.g. to refresh metrics); optional.

    Example:

    A version folder without a SavedModel is reported, not served (see
    `refnn.serving.service.ModelService` for a model that loads):

    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> base = Path(tempfile.mkdtemp())
    >>> (base / "mlp" / "1").mkdir(parents=True)
    >>> manager = ModelManager([ModelConfig("mlp", base / "mlp")])
    >>> manager.poll()
    >>> [(v, state, code) for v, state, code, _ in manager.status("mlp")]
    [(1, 'END', 'NOT_FOUND')]
    >>> try:
    ...     manager.get("mlp")
    ... except ServingError as error:
    ...     print(error.code, error.message)
    NOT_FOUND Servable not found for request: Latest(mlp)
    >>> shutil.rmtree(base)
    """

    def __init__(self, configs, on_change=None):
        names = [c.name for c in configs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"model names must be unique, got {dupes}.")
        self.configs = {c.name: c for c in configs}
        self._servables = {c.name: {} for c in configs}  # name -> {v: S}
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.on_change = on_change

    # -- loading -----------------------------------------------------------
    def poll(self):
        """One pass: load new aspired versions, unload the others."""
        with self._poll_lock:
            for config in list(self.configs.values()):
                self._poll_model(config)

    def _poll_model(self, config):
        on_disk = versions_on_disk(config.base_path)
        if config.policy[0] == "latest":
            # Newest first until N are available: a version that fails to
            # load is reported and the next older one serves instead.
            aspired = []
            for v in reversed(on_disk):
                if (
                    len(aspired)
                    and self._count_available(config.name, aspired)
                    >= config.policy[1]
                ):
                    break
                aspired.append(v)
                self._load_if_needed(config, v)
        else:
            aspired = aspired_versions(config, on_disk)
            for v in aspired:
                self._load_if_needed(config, v)
        current = self._servables[config.name]
        stale = [v for v in current if v not in aspired]
        if stale and not self._count_available(config.name, aspired):
            # Keep serving the newest old version while no aspired one is up.
            up = sorted(v for v in stale if current[v].state == AVAILABLE)
            stale = [v for v in stale if v not in up[-1:]]
        for v in stale:
            with self._lock:
                current = dict(self._servables[config.name])
                servable = current.pop(v)
                self._servables[config.name] = current
            servable.unload()
            log.info("model %s version %s: unloaded", config.name, v)
        if self.on_change is not None:
            self.on_change()

    def _load_if_needed(self, config, v):
        path = Path(config.base_path) / str(v)
        known = self._servables[config.name].get(v)
        if known is not None and known.state == AVAILABLE:
            return
        if known is not None and known.fingerprint == _fingerprint(path):
            return  # failed before and unchanged on disk
        servable = Servable(config.name, v, path).load()
        with self._lock:
            current = dict(self._servables[config.name])
            current[v] = servable
            self._servables[config.name] = current
        if servable.error:
            code, message = servable.error
            log.warning(
                "model %s version %s: %s (%s: %s)",
                config.name,
                v,
                servable.state,
                code,
                message,
            )
        else:
            log.info("model %s version %s: %s", config.name, v, servable.state)

    def _count_available(self, name, versions):
        current = self._servables[name]
        return sum(
            v in current and current[v].state == AVAILABLE for v in versions
        )

    def start_polling(self, interval_seconds):
        """Polls every `interval_seconds` in a daemon thread (0: never)."""
        if interval_seconds <= 0:
            return

        def loop():
            while not self._stop.wait(interval_seconds):
                try:
                    self.poll()
                except Exception:  # keep serving whatever happens on disk
                    log.exception("polling the model folders failed")

        self._thread = threading.Thread(
            target=loop, name="refnn-model-poll", daemon=True
        )
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- lookups -----------------------------------------------------------
    def _model(self, name, what):
        if name not in self._servables:
            raise ServingError(
                "NOT_FOUND", f"Servable not found for request: {what}"
            )
        return self._servables[name]

    def get(self, name, version=None, label=None):
        """The servable for a request, or `ServingError` NOT_FOUND."""
        if version is not None and label is not None:
            raise ServingError(
                "INVALID_ARGUMENT",
                f"Both model version ({version}) and model version label "
                f"({label}) cannot be supplied.",
            )
        if label is not None:
            labels = self.configs[name].labels if name in self.configs else {}
            if label not in labels:
                raise ServingError(
                    "INVALID_ARGUMENT",
                    f"Unrecognized servable version label: {label}",
                )
            version = labels[label]
        if version is None:
            what = f"Latest({name})"
            versions = self._model(name, what)
            for v in sorted(versions, reverse=True):
                if versions[v].state == AVAILABLE:
                    return versions[v]
            raise ServingError(
                "NOT_FOUND", f"Servable not found for request: {what}"
            )
        what = f"Specific({name}, {version})"
        servable = self._model(name, what).get(int(version))
        if servable is None or servable.state != AVAILABLE:
            raise ServingError(
                "NOT_FOUND", f"Servable not found for request: {what}"
            )
        return servable

    def status(self, name, version=None, label=None):
        """``[(version, state, error_code, error_message)]``, TF Serving's
        ``model_version_status`` (highest version first)."""
        if label is not None:
            version = self.get(name, label=label).version
        versions = self._model(name, f"Latest({name})")
        if version is not None:
            versions = {v: s for v, s in versions.items() if v == int(version)}
            if not versions:
                raise ServingError(
                    "NOT_FOUND",
                    f"Could not find version {version} of model {name}",
                )
        elif not versions:
            raise ServingError(
                "NOT_FOUND",
                f"Could not find any versions of model {name}",
            )
        out = []
        for v in sorted(versions, reverse=True):
            s = versions[v]
            code, message = s.error or ("OK", "")
            out.append((v, s.state, code, message))
        return out

    def names(self):
        return sorted(self._servables)

    def available_versions(self, name):
        return sorted(
            v for v, s in self._servables[name].items() if s.state == AVAILABLE
        )
