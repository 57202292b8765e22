"""Support for the scripts in `tutorials/`: arguments, output folders, results.

Every tutorial is a standalone script ``tutorials/NN_topic.py`` that

* calls :func:`parse_args` (``--quick`` for a fast smoke run, ``--out DIR``),
* writes its plots under :func:`output_dir` (``outputs/NN_topic/`` by default),
* exports its final model under ``savedmodels/`` with ``refnn.export``,
* asserts the lesson it teaches, and
* ends with :func:`report`, which prints one machine-readable line
  ``RESULT {json}`` that ``refnn tutorials`` collects into its summary table.
"""

import argparse
import json
import os
from pathlib import Path

RESULT_PREFIX = "RESULT "
REPO_ROOT = Path(__file__).resolve().parents[1]
TUTORIALS_DIR = REPO_ROOT / "tutorials"


def parse_args(name, argv=None, description=None):
    """Parses the common tutorial flags.

    Args:
        name: the tutorial's name, e.g. `"01_perceptron"`.
        argv: the argument list (defaults to `sys.argv[1:]`).
        description: text for `--help`.

    Returns:
        An `argparse.Namespace` with `quick` (bool), `out` (a `Path` that
        exists) and `savedmodels` (the export base directory).
    """
    parser = argparse.ArgumentParser(prog=name, description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny data and few epochs: a smoke run for the test suite",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for plots (default: outputs/NAME)",
    )
    parser.add_argument(
        "--savedmodels",
        type=Path,
        default=Path(os.environ.get("REFNN_SAVEDMODELS", "savedmodels")),
        help="base folder for SavedModel exports (default: savedmodels)",
    )
    args = parser.parse_args(argv)
    args.out = output_dir(name, args.out)
    return args


def output_dir(name, out=None):
    """Returns (and creates) the folder a tutorial writes its plots to."""
    if out is None:
        base = Path(os.environ.get("REFNN_OUTPUTS", "outputs"))
        out = base / name
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def report(model, dataset, metric, value, export=None, **extra):
    """Prints the tutorial's summary line and returns it as a dict.

    Args:
        model: model name, e.g. `"Perceptron"`.
        dataset: dataset name, e.g. `"blobs"`.
        metric: metric name, e.g. `"train_accuracy"`.
        value: the metric's value (a number).
        export: path of the exported SavedModel version folder, if any.
        **extra: any further JSON-serializable figures worth keeping.
    """
    row = {
        "model": str(model),
        "dataset": str(dataset),
        "metric": str(metric),
        "value": float(value),
        "export": None if export is None else str(export),
        **extra,
    }
    print(RESULT_PREFIX + json.dumps(row), flush=True)
    return row


def parse_result(stdout):
    """Finds the last `RESULT {json}` line in a tutorial's output."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    return None
