"""The ``refnn`` console script: train, evaluate, export, predict, show.

Examples::

    refnn --version
    refnn train mlp --dataset digits --epochs 20 --units 64 --export
    refnn train mlp --data table.csv --checkpoint-dir ckpt --logdir logs
    refnn train perceptron --dataset blobs --epochs 5
    refnn evaluate savedmodels/mlp_digits --dataset digits
    refnn export model.keras --name my_model  # -> savedmodels/my_model/1
    refnn show savedmodels/mlp_digits/1
    refnn predict savedmodels/mlp_digits/1 --input rows.json
    refnn tutorials --list
    refnn tutorials 01 --quick
    refnn tutorials all

Arguments and output paths are checked before TensorFlow is imported or
any training starts, so a typo costs a fraction of a second, not a run.
TensorFlow's start-up log lines are hidden unless ``--verbose`` is given.

``predict`` reads ``.npy`` / ``.npz`` arrays or JSON in TF Serving's REST
form (``{"instances": [...]}`` row form or ``{"inputs": {...}}`` column form,
or a plain list of rows) and answers like TF Serving (``{"predictions":
...}`` or ``{"outputs": ...}``).
"""

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

MODELS = ("perceptron", "logistic", "mlp")
DEFAULT_LEARNING_RATES = {"perceptron": 1.0, "logistic": 0.5, "mlp": 0.01}
DATA_SUFFIXES = (".csv", ".npz")
# What each built-in dataset's features are, for the model card.
INPUT_SCALING = {
    "digits": "8x8 pixel intensities 0..16 divided by 16, in [0, 1]",
}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class CLIError(Exception):
    """A user error: printed as ``refnn: error: ...`` with exit status 2."""


def _version():
    """refnn's version, read from ``__init__.py`` without importing refnn."""
    text = (Path(__file__).parent / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    return match.group(1) if match else "unknown"


# TensorFlow's start-up lines: absl's preamble, C++ log lines such as
# "I0000 00:00:17.. 123 cudart_stub.cc:31] Could not find cuda drivers" and
# the CPU-instructions notice that follows cpu_feature_guard's line.
_STARTUP_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog"
    r"|[IWE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "
    r"|To enable the following instructions"
    r"|.*oneDNN custom operations are on)"
)


def _import_refnn(verbose):
    """Imports refnn (so TensorFlow) with its start-up noise hidden.

    `TF_CPP_MIN_LOG_LEVEL` hides most of TensorFlow's C++ log, but the
    "Could not find cuda drivers" lines are written by absl before that
    setting applies, so stderr is captured during the import and replayed
    without those lines; anything else written then (a real warning or
    error) still reaches the user. ``--verbose`` shows everything.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0" if verbose else "3"
    if verbose or "tensorflow" in sys.modules:
        import refnn  # noqa: F401

        return
    import tempfile

    if sys.stderr.isatty():  # a few seconds of silence otherwise
        print("refnn: starting TensorFlow...", file=sys.stderr, flush=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import refnn  # noqa: F401, F811
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", "replace").splitlines(True)
        sys.stderr.write(
            "".join(line for line in lines if not _STARTUP_NOISE.match(line))
        )
        sys.stderr.flush()


# -- validation (no TensorFlow needed) ---------------------------------------


def _parse_units(text):
    try:
        units = [int(u) for u in text.split(",") if u.strip()]
    except ValueError:
        raise CLIError(
            f"--units must be comma-separated positive integers, got {text!r}"
        ) from None
    if not units or any(u <= 0 for u in units):
        raise CLIError(
            f"--units must be comma-separated positive integers, got {text!r}"
        )
    return units


def _check_positive(flag, value):
    if value < 1:
        raise CLIError(f"{flag} must be a positive integer, got {value}")


def _check_folder(flag, path):
    """`path` is a folder, or can be created as one, and is writable."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CLIError(f"{flag} {str(path)!r} is a file, not a folder")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise CLIError(
            f"{flag} {str(path)!r} cannot be created: {str(parent)!r} is a file"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CLIError(
            f"{flag} {str(path)!r} is not writable ({str(parent)!r} is "
            "read-only)"
        )


def _check_name(name):
    if not _NAME_RE.match(name) or name in (".", ".."):
        raise CLIError(
            "--name must be letters, digits, '_', '-' or '.' with no path "
            f"separators, got {name!r}"
        )


def _check_data_file(flag, path):
    path = Path(path)
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise CLIError(f"{flag} must be a .csv or .npz file, got {str(path)!r}")
    if not path.is_file():
        raise CLIError(f"{flag} file {str(path)!r} not found")


def _validate_evaluate(args):
    if args.data is not None:
        _check_data_file("--data", args.data)
    _check_positive("--batch-size", args.batch_size)


def _validate_predict(args):
    _check_positive("--batch-size", args.batch_size)


def _validate_train(args):
    """Every check that needs no data: run before importing TensorFlow."""
    _check_positive("--epochs", args.epochs)
    _check_positive("--batch-size", args.batch_size)
    lr = args.learning_rate
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise CLIError(
            f"--learning-rate must be a positive finite number, got {lr}"
        )
    if args.model == "mlp":
        _parse_units(args.units)
    elif args.units != "32":
        raise CLIError(f"--units applies to the mlp only, not {args.model}")
    if args.data is not None:
        _check_data_file("--data", args.data)
    if args.name is not None:
        _check_name(args.name)
    if args.export:
        _check_folder("--savedmodels", args.savedmodels)
        name = args.name or _default_name(args)
        _check_name(name)
        _check_folder("--savedmodels/--name", Path(args.savedmodels) / name)
    elif args.name is not None:
        raise CLIError("--name is the export's name: it needs --export")
    if args.checkpoint_dir is not None:
        _check_folder("--checkpoint-dir", args.checkpoint_dir)
    if args.logdir is not None:
        _check_folder("--logdir", args.logdir)
    _check_positive("--workers", args.workers)
    if args.batch_size % args.workers:
        raise CLIError(
            f"--batch-size must divide by --workers, got {args.batch_size} "
            f"and {args.workers}"
        )


def _default_name(args):
    source = args.dataset if args.data is None else Path(args.data).stem
    return f"{args.model}_{source}"


# -- train ------------------------------------------------------------------


def _load_data(args):
    """``(x, y, description)`` from --dataset or --data, validated."""
    from refnn.data import DATASETS, check_arrays, get_dataset, load_file

    if args.data is not None:
        try:
            x, y = load_file(args.data)
        except ValueError as e:
            raise CLIError(f"--data: {e}") from None
        described = {"file": str(Path(args.data).resolve())}
    else:
        if args.dataset not in DATASETS:
            raise CLIError(
                f"unknown dataset {args.dataset!r}; choose one of "
                f"{sorted(DATASETS)}"
            )
        import inspect

        kwargs = {}
        if "seed" in inspect.signature(DATASETS[args.dataset]).parameters:
            kwargs["seed"] = args.seed
        x, y = get_dataset(args.dataset, **kwargs)
        described = {"dataset": args.dataset, **kwargs}
    num_classes = int(y.max()) + 1
    check_arrays(x, y, num_classes=num_classes)
    if num_classes < 2:
        raise CLIError(f"the labels hold one class only ({num_classes - 1})")
    return x, y, described


def _build_model(kind, num_classes, args):
    import keras

    lr = args.learning_rate
    if lr is None:
        lr = DEFAULT_LEARNING_RATES[kind]
    if kind == "perceptron":
        from refnn.models.perceptron import Perceptron

        if num_classes != 2:
            source = args.dataset or args.data
            raise CLIError(
                f"the perceptron needs 2 classes, dataset {source!r} "
                f"has {num_classes}"
            )
        model = Perceptron(learning_rate=lr)
        model.compile()
        return model, {"learning_rate": lr}
    if kind == "logistic":
        from refnn.models.logistic_regression import LogisticRegression

        model = LogisticRegression(num_classes=num_classes)
        model.compile(keras.optimizers.SGD(lr), metrics=["accuracy"])
        return model, {"optimizer": "SGD", "learning_rate": lr}
    from refnn.models.mlp import MLP

    units = _parse_units(args.units) + [num_classes]
    model = MLP(
        units=units,
        activation="relu",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
    )
    model.compile(keras.optimizers.Adam(lr), metrics=["accuracy"])
    return model, {"optimizer": "Adam", "learning_rate": lr, "units": units}


def _callbacks(args, batches, num_features):
    import keras

    # A NaN loss ends the run at once instead of after every epoch.
    callbacks = [batches.callback(), keras.callbacks.TerminateOnNaN()]
    if args.checkpoint_dir is not None:
        # Saved atomically at every epoch end; a killed run resumes at the
        # epoch it was in, and EpochBatches replays that epoch's batches.
        from refnn.training.epoch_backup import EpochBackup

        callbacks.append(EpochBackup(args.checkpoint_dir))
    if args.logdir is not None:
        import tensorflow as tf

        from refnn.training.tensorboard_logger import TensorBoardLogger

        spec = tf.TensorSpec((None, num_features), "float32")
        callbacks += [
            keras.callbacks.TensorBoard(str(args.logdir), write_graph=False),
            TensorBoardLogger(args.logdir, spec),
        ]
    return callbacks


def _cmd_train(args):
    import keras
    import numpy as np

    from refnn.data import EpochBatches, train_val_test_split
    from refnn.distribute.cli import scale_train

    status = scale_train(args)  # --mixed-precision, --workers N
    if status is not None:
        return status
    keras.utils.set_random_seed(args.seed)
    if (
        args.checkpoint_dir is not None
        and keras.backend.backend() == "tensorflow"
    ):
        # A resumed run must end with the weights of an unbroken one. Without
        # op determinism, oneDNN's kernels may sum in a different order from
        # one run to the next (measured: 1 run in 3 differed by up to 8e-4).
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    x, y, source = _load_data(args)
    num_classes = int(y.max()) + 1
    model, hyper = _build_model(args.model, num_classes, args)
    train, val, test = train_val_test_split(x, y, seed=args.seed)
    if args.model == "perceptron":
        train = (train[0], train[1].astype("float32"))
        val = (val[0], val[1].astype("float32"))
    batches = EpochBatches(*train, batch_size=args.batch_size, seed=args.seed)
    val_batches = EpochBatches(*val, batch_size=args.batch_size, shuffle=False)
    model(train[0][:1])  # built, so a checkpoint can be restored into it
    initial_epoch = 0
    if args.checkpoint_dir is not None:
        from refnn.training.epoch_backup import EpochBackup

        try:
            initial_epoch = EpochBackup(args.checkpoint_dir).restore(model)
        except ValueError as e:
            raise CLIError(str(e)) from None
    name = source.get("dataset") or source["file"]
    print(
        f"training {args.model} on {name}: {len(train[1])} train / "
        f"{len(val[1])} validation / {len(test[1])} test examples, "
        f"{num_classes} classes",
        flush=True,
    )
    history = model.fit(
        batches,
        validation_data=val_batches,
        epochs=args.epochs,
        initial_epoch=initial_epoch,
        callbacks=_callbacks(args, batches, x.shape[1]),
        shuffle=False,  # EpochBatches orders every epoch from (seed, epoch)
        verbose=1 if sys.stdout.isatty() else 2,
    )
    labels = keras.ops.convert_to_numpy(model.serve(test[0])["label"])
    accuracy = float(np.mean(labels.reshape(-1) == test[1]))
    result = {
        "model": args.model,
        "dataset": args.dataset if args.data is None else str(args.data),
        "test_accuracy": accuracy,
        "test_examples": len(test[1]),
    }
    if args.export:
        from refnn.export import export_savedmodel

        card = {
            "training_data": {
                **source,
                "split_seed": args.seed,
                "examples": {
                    "train": len(train[1]),
                    "validation": len(val[1]),
                    "test": len(test[1]),
                },
                "num_features": int(x.shape[1]),
                "num_classes": num_classes,
            },
            "metrics": {
                "test_accuracy": accuracy,
                **{
                    f"final_{k}": float(v[-1])
                    for k, v in history.history.items()
                    if v
                },
            },
            "hyperparameters": {
                "model": args.model,
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "seed": args.seed,
                **hyper,
            },
            "input_scaling": INPUT_SCALING.get(
                args.dataset, "none: rows are fed as given"
            ),
        }
        path = export_savedmodel(
            model,
            args.name or _default_name(args),
            base_dir=args.savedmodels,
            card=card,
            allow_nonfinite=args.allow_nonfinite,
        )
        result["export"] = str(path)
        print(f"exported SavedModel to {path}", flush=True)
    print(f"test accuracy: {accuracy:.4f}", flush=True)
    print(json.dumps(result), flush=True)
    return 0


# -- predict ----------------------------------------------------------------


def _cmd_predict(args):
    from refnn.serving.local import predict

    def progress(message):  # on stderr: stdout is the JSON answer
        print(f"refnn predict: {message}", file=sys.stderr, flush=True)

    try:
        response = predict(
            args.path,
            args.input,
            args.endpoint,
            batch_size=args.batch_size,
            progress=progress,
        )
    except ValueError as e:
        raise CLIError(str(e)) from None
    print(json.dumps(response))
    return 0


# -- serve ------------------------------------------------------------------


def _cmd_serve(args):
    from refnn.serving.server import serve

    return serve(args)


def _add_serve_parser(sub):
    serve = sub.add_parser(
        "serve",
        help="serve savedmodels/ with TF Serving's REST and gRPC APIs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Serves every NAME/VERSION/ SavedModel under the MODEL_BASE_DIRs (default:
savedmodels/) with TensorFlow Serving's REST and gRPC APIs; flags are named
like tensorflow_model_server's.

REST (--rest-api-port):
  GET  /v1/models/NAME[/versions/N|/labels/L]            model_version_status
  GET  /v1/models/NAME[/versions/N|/labels/L]/metadata   signature defs
  POST /v1/models/NAME[/versions/N|/labels/L]:predict    {"instances": ...}
                                                          or {"inputs": ...}
  GET  /monitoring/prometheus/metrics                    Prometheus metrics
gRPC (--port): tensorflow.serving.PredictionService (Predict,
  GetModelMetadata, Classify, Regress) and ModelService (GetModelStatus).

The highest version of each model is served (see --model-config-file for
other policies and labels); versions appearing on or vanishing from disk are
loaded/unloaded every --file-system-poll-wait-seconds with no failed
request. A version that fails to load is reported in its status while the
others serve. Errors are {"error": "..."} with TF Serving's HTTP statuses.
SIGTERM/SIGINT: stop accepting, finish requests in flight, exit.

example:
  refnn serve savedmodels --rest-api-port 8501 --port 8500
  curl -d '{"instances": [[0.1, 0.2, 0.3, 0.4]]}' \\
      http://127.0.0.1:8501/v1/models/NAME:predict
""",
    )
    serve.add_argument(
        "model_base_dirs",
        nargs="*",
        metavar="MODEL_BASE_DIR",
        help="a model folder (holding 1/, 2/, ...) or a folder of them "
        "(default: savedmodels)",
    )
    serve.add_argument(
        "--model-config-file",
        default=None,
        help="TF Serving's ModelServerConfig text file: names, base paths, "
        "model_version_policy (latest N / all / specific), version_labels",
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address")
    serve.add_argument(
        "--rest-api-port", type=int, default=8501, help="REST port"
    )
    serve.add_argument(
        "--port", type=int, default=8500, help="gRPC port (0: no gRPC)"
    )
    serve.add_argument(
        "--file-system-poll-wait-seconds",
        type=float,
        default=2.0,
        help="how often to look for new/removed versions (0: never)",
    )
    serve.add_argument(
        "--max-request-bytes",
        type=int,
        default=64 * 1024 * 1024,
        help="larger request bodies get HTTP 413 / gRPC RESOURCE_EXHAUSTED "
        "(0: no limit)",
    )
    serve.add_argument(
        "--enable-batching",
        action="store_true",
        help="run rows of concurrent requests to one signature as one batch",
    )
    serve.add_argument("--max-batch-size", type=int, default=32)
    serve.add_argument(
        "--batch-timeout-micros",
        type=int,
        default=1000,
        help="how long a batch waits to fill up",
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="one JSON line per request on stderr",
    )
    serve.add_argument(
        "--shutdown-grace-seconds",
        type=float,
        default=10.0,
        help="on SIGTERM, how long requests in flight may take to finish",
    )
    serve.set_defaults(func=_cmd_serve)


def _cmd_export(args):
    from refnn.export import export_savedmodel
    from refnn.saving import load_model

    path = Path(args.model_file)
    if not path.is_file() or path.suffix != ".keras":
        raise CLIError(f"{str(path)!r} is not a .keras file")
    model = load_model(path)
    name = args.name or path.stem
    out = export_savedmodel(
        model,
        name,
        version=args.version,
        base_dir=args.savedmodels,
        card={"training_data": {"keras_file": str(path.resolve())}},
        allow_nonfinite=args.allow_nonfinite,
    )
    print(f"exported SavedModel to {out}")
    return 0


def _resolve_export(path):
    from refnn.export import resolve_version

    try:
        return resolve_version(path)
    except FileNotFoundError as e:
        raise CLIError(str(e)) from None


def _cmd_show(args):
    from refnn.export import describe, read_model_card

    path = _resolve_export(args.path)
    info = {
        "path": str(path),
        "model_card": read_model_card(path),
        "signatures": describe(path),
    }
    print(json.dumps(info, indent=2))
    return 0


def _cmd_evaluate(args):
    """Accuracy (and log-loss) of an export's ``serving_default`` endpoint."""
    import numpy as np
    import tensorflow as tf

    from refnn.export import read_model_card
    from refnn.export.savedmodel import load_savedmodel

    path = _resolve_export(args.path)
    card = read_model_card(path) or {}
    seed = args.seed
    if seed is None:
        seed = card.get("training_data", {}).get("split_seed", 0)
    args.seed = seed
    x, y, _ = _load_data(args)
    if args.data is None:  # the test part of the split used in training
        from refnn.data import train_val_test_split

        _, _, (x, y) = train_val_test_split(x, y, seed=seed)
    fn = load_savedmodel(path).signatures["serving_default"]
    specs = fn.structured_input_signature[1]
    if len(specs) != 1:
        raise CLIError(
            f"evaluate needs a one-input export, got inputs {sorted(specs)}"
        )
    (input_name,) = specs
    outputs = [
        fn(**{input_name: tf.constant(x[i : i + args.batch_size], "float32")})
        for i in range(0, len(y), args.batch_size)
    ]
    if "label" not in outputs[0]:
        raise CLIError(
            f"the export has no 'label' output, got {sorted(outputs[0])}"
        )
    labels = np.concatenate([o["label"].numpy().reshape(-1) for o in outputs])
    result = {
        "path": str(path),
        "examples": len(y),
        "accuracy": float(np.mean(labels == y)),
    }
    if "probabilities" in outputs[0]:
        probs = np.concatenate([o["probabilities"].numpy() for o in outputs])
        if probs.ndim == 2 and probs.shape[1] > 1:
            picked = probs[np.arange(len(y)), y]
            result["log_loss"] = float(-np.mean(np.log(picked + 1e-12)))
    print(json.dumps(result))
    return 0


# -- tutorials --------------------------------------------------------------


def _tutorials_module():
    """`refnn.tutorials` (standard library only), without importing refnn.

    Listing the tutorials and running them (each in its own process) needs
    no TensorFlow here, so ``refnn tutorials`` loads that one file when the
    package is not imported yet, as ``refnn_cli`` loads this one.
    """
    if "refnn" in sys.modules:
        from refnn import tutorials

        return tutorials
    import importlib.util

    path = Path(__file__).with_name("tutorials.py")
    spec = importlib.util.spec_from_file_location("refnn_cli._tutorials", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cmd_tutorials(args):
    tutorials = _tutorials_module()
    found = tutorials.list_tutorials()
    if not found:
        raise CLIError(
            f"no tutorials found in {tutorials.TUTORIALS_DIR}; the "
            "installation is incomplete (reinstall refnn)"
        )
    if args.list:
        for path in found:
            print(f"{path.stem:28s} {tutorials.tutorial_title(path)}")
        return 0
    try:
        selected = tutorials.select_tutorials(args.names or "all")
    except ValueError as e:
        raise CLIError(str(e)) from None
    env = {"REFNN_VERBOSE": "1"} if args.verbose else {}
    if args.out is not None:
        env["REFNN_OUTPUTS"] = str(args.out)
    if args.savedmodels is not None:
        env["REFNN_SAVEDMODELS"] = str(args.savedmodels)
    _, ok = tutorials.run_tutorials(
        [p.stem for p in selected],
        quick=args.quick,
        env=env,
        hide=None if args.verbose else _STARTUP_NOISE.match,
    )
    return 0 if ok else 1


# -- parser -----------------------------------------------------------------


def _add_data_source(parser, required):
    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument(
        "--dataset", help="a built-in dataset: blobs, xor, moons, ..."
    )
    source.add_argument(
        "--data",
        type=Path,
        help="your own data: a .csv (label in the last column) or an .npz "
        "with arrays x and y",
    )


def _savedmodels_argument(parser):
    parser.add_argument(
        "--savedmodels",
        type=Path,
        default=Path(os.environ.get("REFNN_SAVEDMODELS", "savedmodels")),
    )


def build_parser():
    """The `argparse` parser of the ``refnn`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="refnn",
        description="Classic neural networks from the seed formulas.",
    )
    parser.add_argument(
        "--version", action="version", version=f"refnn {_version()}"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's start-up log lines",
    )
    # Also accepted after the command, e.g. `refnn train --verbose ...`.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "--verbose", action="store_true", default=argparse.SUPPRESS
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    train = sub.add_parser(
        "train", help="train a model on a dataset", parents=[verbose]
    )
    train.add_argument("model", choices=MODELS)
    _add_data_source(train, required=True)
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="default: perceptron 1.0, logistic 0.5 (SGD), mlp 0.01 (Adam)",
    )
    train.add_argument(
        "--units",
        default="32",
        help="mlp hidden layer widths, comma-separated (the output layer "
        "of one unit per class is added)",
    )
    train.add_argument("--export", action="store_true")
    train.add_argument("--name", default=None, help="export name")
    _savedmodels_argument(train)
    train.add_argument(
        "--allow-nonfinite",
        action="store_true",
        help="export even if a weight is NaN or infinite",
    )
    train.add_argument(
        "--checkpoint-dir",
        type=Path,
        default=None,
        help="back up at every epoch end; rerun the same command to resume "
        "an interrupted run (TensorFlow's deterministic kernels are used, so "
        "it ends with the weights of an uninterrupted run)",
    )
    train.add_argument(
        "--logdir",
        type=Path,
        default=None,
        help="write TensorBoard scalars, histograms and the graph here",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(  # training at scale: refnn/distribute/cli.py
        "--mixed-precision", choices=("float16", "bfloat16"), default=None
    )
    train.add_argument("--workers", type=int, default=1, help="local workers")
    train.set_defaults(func=_cmd_train, validate=_validate_train)

    evaluate = sub.add_parser(
        "evaluate",
        help="accuracy of an export on a dataset's test split or a file",
        parents=[verbose],
    )
    evaluate.add_argument("path", help="savedmodels/NAME/VERSION (or NAME)")
    _add_data_source(evaluate, required=True)
    evaluate.add_argument("--batch-size", type=int, default=256)
    evaluate.add_argument(
        "--seed",
        type=int,
        default=None,
        help="split seed (default: the one in the model card)",
    )
    evaluate.set_defaults(func=_cmd_evaluate, validate=_validate_evaluate)

    predict = sub.add_parser(
        "predict", help="run an exported SavedModel", parents=[verbose]
    )
    predict.add_argument("path", help="savedmodels/NAME/VERSION (or NAME)")
    predict.add_argument("--input", required=True, help=".npy, .npz or .json")
    predict.add_argument(
        "--endpoint",
        default=None,
        help="the signature to run (default: the JSON's signature_name, "
        "else serving_default)",
    )
    predict.add_argument(
        "--batch-size",
        type=int,
        default=10000,
        help="rows per model call (default: 10000); an input of several "
        "batches, or a file of 10 MB or more, shows its progress on stderr",
    )
    predict.set_defaults(func=_cmd_predict, validate=_validate_predict)

    export = sub.add_parser(
        "export",
        help="export a saved .keras model as a SavedModel",
        parents=[verbose],
    )
    export.add_argument("model_file", help="a .keras file")
    export.add_argument("--name", default=None, help="default: file stem")
    export.add_argument("--version", type=int, default=None)
    _savedmodels_argument(export)
    export.add_argument("--allow-nonfinite", action="store_true")
    export.set_defaults(func=_cmd_export)

    _add_serve_parser(sub)

    show = sub.add_parser(
        "show",
        help="an export's model card and signatures",
        parents=[verbose],
    )
    show.add_argument("path")
    show.set_defaults(func=_cmd_show)

    tut = sub.add_parser(
        "tutorials", help="run the tutorials", parents=[verbose]
    )
    tut.add_argument("names", nargs="*", help="NN, topic or NN_topic; all")
    tut.add_argument("--quick", action="store_true")
    tut.add_argument("--list", action="store_true")
    tut.add_argument("--out", type=Path, default=None, help="plots folder")
    tut.add_argument("--savedmodels", type=Path, default=None)
    # Each tutorial runs in its own process: no TensorFlow needed here.
    tut.set_defaults(func=_cmd_tutorials, tensorflow=False)
    return parser


def main(argv=None):
    """Runs the CLI; returns the exit status (also used by the script).

    Arguments are parsed and validated before anything imports TensorFlow;
    then refnn is imported with TensorFlow's start-up noise hidden, except
    for ``tutorials``, which needs no TensorFlow in this process.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "validate"):
            args.validate(args)
        if getattr(args, "tensorflow", True):
            _import_refnn(args.verbose)
        return args.func(args)
    except CLIError as e:
        print(f"refnn {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as e:
        # Validation errors from refnn (bad data, bad model arguments).
        print(f"refnn {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
