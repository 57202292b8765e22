"""The ``refnn`` console script: train, export, predict, show, tutorials.

Examples::

    refnn train mlp --dataset digits --epochs 20 --units 64 --export
    refnn train perceptron --dataset blobs --epochs 5
    refnn export model.keras --name my_model  # -> savedmodels/my_model/1
    refnn show savedmodels/mlp_digits/1
    refnn predict savedmodels/mlp_digits/1 --input rows.json
    refnn tutorials --list
    refnn tutorials 01 --quick
    refnn tutorials all

``predict`` reads ``.npy`` / ``.npz`` arrays or JSON in TF Serving's REST
form (``{"instances": [...]}`` row form or ``{"inputs": {...}}`` column form,
or a plain list of rows) and answers like TF Serving (``{"predictions":
...}`` or ``{"outputs": ...}``).
"""

import argparse
import inspect
import json
import os
import sys
from pathlib import Path

MODELS = ("perceptron", "logistic", "mlp")
DEFAULT_LEARNING_RATES = {"perceptron": 1.0, "logistic": 0.5, "mlp": 0.01}


class CLIError(Exception):
    """A user error: printed as ``refnn: error: ...`` with exit status 2."""


# -- train ------------------------------------------------------------------


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


def _load_data(name, seed):
    from refnn.data import DATASETS, get_dataset

    if name not in DATASETS:
        raise CLIError(
            f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}"
        )
    kwargs = {}
    if "seed" in inspect.signature(DATASETS[name]).parameters:
        kwargs["seed"] = seed
    return get_dataset(name, **kwargs)


def _build_model(kind, num_classes, args):
    import keras

    lr = args.learning_rate
    if lr is None:
        lr = DEFAULT_LEARNING_RATES[kind]
    if kind == "perceptron":
        from refnn.models.perceptron import Perceptron

        if num_classes != 2:
            raise CLIError(
                f"the perceptron needs 2 classes, dataset {args.dataset!r} "
                f"has {num_classes}"
            )
        model = Perceptron(learning_rate=lr)
        model.compile()
        return model
    if kind == "logistic":
        from refnn.models.logistic_regression import LogisticRegression

        model = LogisticRegression(num_classes=num_classes)
        model.compile(keras.optimizers.SGD(lr), metrics=["accuracy"])
        return model
    from refnn.models.mlp import MLP

    units = _parse_units(args.units) + [num_classes]
    model = MLP(
        units=units,
        activation="relu",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
    )
    model.compile(keras.optimizers.Adam(lr), metrics=["accuracy"])
    return model


def _cmd_train(args):
    import keras
    import numpy as np

    from refnn.data import check_arrays, make_dataset, train_val_test_split

    if args.epochs < 1:
        raise CLIError(
            f"--epochs must be a positive integer, got {args.epochs}"
        )
    if args.batch_size < 1:
        raise CLIError(
            f"--batch-size must be a positive integer, got {args.batch_size}"
        )
    if args.learning_rate is not None and not args.learning_rate > 0:
        raise CLIError(
            f"--learning-rate must be positive, got {args.learning_rate}"
        )
    if args.model == "mlp":
        _parse_units(args.units)  # fail before loading data
    from refnn.distribute.cli import scale_train

    status = scale_train(args)  # --mixed-precision, --workers N
    if status is not None:
        return status
    keras.utils.set_random_seed(args.seed)
    x, y = _load_data(args.dataset, args.seed)
    num_classes = int(y.max()) + 1
    check_arrays(x, y, num_classes=num_classes)
    model = _build_model(args.model, num_classes, args)
    train, val, test = train_val_test_split(x, y, seed=args.seed)
    if args.model == "perceptron":
        train = (train[0], train[1].astype("float32"))
        val = (val[0], val[1].astype("float32"))
    ds = make_dataset(*train, batch_size=args.batch_size, seed=args.seed)
    val_ds = make_dataset(*val, batch_size=args.batch_size, shuffle=False)
    verbose = 1 if sys.stdout.isatty() else 2
    print(
        f"training {args.model} on {args.dataset}: {len(train[1])} train / "
        f"{len(val[1])} validation / {len(test[1])} test examples, "
        f"{num_classes} classes",
        flush=True,
    )
    model.fit(
        ds,
        validation_data=val_ds,
        epochs=args.epochs,
        shuffle=False,  # make_dataset shuffles every epoch
        verbose=verbose,
    )
    labels = keras.ops.convert_to_numpy(model.serve(test[0])["label"])
    accuracy = float(np.mean(labels.reshape(-1) == test[1]))
    result = {
        "model": args.model,
        "dataset": args.dataset,
        "test_accuracy": accuracy,
        "test_examples": len(test[1]),
    }
    if args.export:
        from refnn.export import export_savedmodel

        name = args.name or f"{args.model}_{args.dataset}"
        path = export_savedmodel(model, name, base_dir=args.savedmodels)
        result["export"] = str(path)
        print(f"exported SavedModel to {path}", flush=True)
    print(f"test accuracy: {accuracy:.4f}", flush=True)
    print(json.dumps(result), flush=True)
    return 0


# -- predict ----------------------------------------------------------------


def _cmd_predict(args):
    from refnn.serving.local import predict

    try:
        response = predict(args.path, args.input, args.endpoint)
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
    import importlib

    import keras

    from refnn.export import export_savedmodel

    path = Path(args.model_file)
    if not path.is_file() or path.suffix != ".keras":
        raise CLIError(f"{str(path)!r} is not a .keras file")
    # Register refnn's serializable classes before loading.
    for module in ("refnn.layers", "refnn.models", "refnn.losses"):
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    model = keras.saving.load_model(path)
    name = args.name or path.stem
    out = export_savedmodel(
        model, name, version=args.version, base_dir=args.savedmodels
    )
    print(f"exported SavedModel to {out}")
    return 0


def _cmd_show(args):
    from refnn.export import describe

    try:
        info = describe(args.path)
    except FileNotFoundError as e:
        raise CLIError(str(e)) from None
    print(json.dumps(info, indent=2))
    return 0


# -- tutorials --------------------------------------------------------------


def _cmd_tutorials(args):
    from refnn import tutorials

    if args.list:
        for path in tutorials.list_tutorials():
            print(f"{path.stem:28s} {tutorials.tutorial_title(path)}")
        return 0
    try:
        selected = tutorials.select_tutorials(args.names or "all")
    except ValueError as e:
        raise CLIError(str(e)) from None
    if not selected:
        raise CLIError(f"no tutorials found in {tutorials.TUTORIALS_DIR}")
    env = {}
    if args.out is not None:
        env["REFNN_OUTPUTS"] = str(args.out)
    if args.savedmodels is not None:
        env["REFNN_SAVEDMODELS"] = str(args.savedmodels)
    _, ok = tutorials.run_tutorials(
        [p.stem for p in selected], quick=args.quick, env=env
    )
    return 0 if ok else 1


# -- parser -----------------------------------------------------------------


def build_parser():
    parser = argparse.ArgumentParser(
        prog="refnn",
        description="Classic neural networks from the seed formulas.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    train = sub.add_parser("train", help="train a model on a dataset")
    train.add_argument("model", choices=MODELS)
    train.add_argument("--dataset", required=True)
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
    train.add_argument(
        "--savedmodels",
        type=Path,
        default=Path(os.environ.get("REFNN_SAVEDMODELS", "savedmodels")),
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(  # training at scale: refnn/distribute/cli.py
        "--mixed-precision", choices=("float16", "bfloat16"), default=None
    )
    train.add_argument("--workers", type=int, default=1, help="local workers")
    train.set_defaults(func=_cmd_train)

    predict = sub.add_parser("predict", help="run an exported SavedModel")
    predict.add_argument("path", help="savedmodels/NAME/VERSION (or NAME)")
    predict.add_argument("--input", required=True, help=".npy, .npz or .json")
    predict.add_argument(
        "--endpoint",
        default=None,
        help="the signature to run (default: the JSON's signature_name, "
        "else serving_default)",
    )
    predict.set_defaults(func=_cmd_predict)

    export = sub.add_parser(
        "export", help="export a saved .keras model as a SavedModel"
    )
    export.add_argument("model_file", help="a .keras file")
    export.add_argument("--name", default=None, help="default: file stem")
    export.add_argument("--version", type=int, default=None)
    export.add_argument(
        "--savedmodels",
        type=Path,
        default=Path(os.environ.get("REFNN_SAVEDMODELS", "savedmodels")),
    )
    export.set_defaults(func=_cmd_export)

    _add_serve_parser(sub)

    show = sub.add_parser("show", help="list an export's signatures")
    show.add_argument("path")
    show.set_defaults(func=_cmd_show)

    tut = sub.add_parser("tutorials", help="run the tutorials")
    tut.add_argument("names", nargs="*", help="NN, topic or NN_topic; all")
    tut.add_argument("--quick", action="store_true")
    tut.add_argument("--list", action="store_true")
    tut.add_argument("--out", type=Path, default=None, help="plots folder")
    tut.add_argument("--savedmodels", type=Path, default=None)
    tut.set_defaults(func=_cmd_tutorials)
    return parser


def main(argv=None):
    """Runs the CLI; returns the exit status (also used by the script)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
