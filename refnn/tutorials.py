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
# A checkout runs tutorials/ itself; an installed wheel carries a copy of the
# scripts in the package (refnn/_tutorials links to tutorials/ in a checkout).
TUTORIALS_DIR = (
    REPO_ROOT / "tutorials"
    if (REPO_ROOT / "tutorials").is_dir()
    else Path(__file__).resolve().parent / "_tutorials"
)


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
        "--verbose",
        action="store_true",
        help="show TensorFlow's start-up log lines (also REFNN_VERBOSE=1); "
        "read by refnn_cli.import_refnn before TensorFlow starts",
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


def progress(every=2.0, prefix="  ", final=True):
    """A Keras callback printing a line at least every `every` seconds.

    ``fit(..., verbose=0, callbacks=[progress()])`` keeps a long fit from
    being silent without one line per step: a line at the end of an epoch
    when `every` seconds have passed since the last line (and after the
    last epoch, unless `final` is false), and a line within an epoch that
    runs longer than that. A short fit prints one line; each line holds the
    epoch and its metrics.

    Args:
        every: seconds of silence before the next line.
        prefix: text before each line (an indent by default).
        final: print the last epoch's line even when it is not late; false
            for a loop of one-epoch fits that prints its own line per epoch.

    Returns:
        A `keras.callbacks.Callback`.
    """
    import time

    import keras

    def metrics(logs):
        shown = []
        for k, v in (logs or {}).items():
            try:
                shown.append(f"{k} {float(v):.4g}")
            except (TypeError, ValueError):
                pass  # not a number
        return ", ".join(shown)

    class Progress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.last = time.perf_counter()
            self.pending = None

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def _line(self, text):
            print(prefix + text, flush=True)
            self.last = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() - self.last >= every:
                steps = self.params.get("steps")
                of = f"/{steps}" if steps else ""
                self._line(
                    f"epoch {self.epoch + 1}/{self.params['epochs']}, "
                    f"step {batch + 1}{of}: {metrics(logs)}"
                )

        def on_epoch_end(self, epoch, logs=None):
            epochs = self.params["epochs"]
            self.pending = f"epoch {epoch + 1}/{epochs}: {metrics(logs)}"
            if time.perf_counter() - self.last >= every:
                self._line(self.pending)
                self.pending = None

        def on_train_end(self, logs=None):
            if final and self.pending:  # the last epoch (or early stop's)
                self._line(self.pending)
                self.pending = None

    return Progress()


def report(model, dataset, metric, value, export=None, **extra):
    """Prints the tutorial's summary line and returns it as a dict.

    Args:
        model: model name, e.g. `"Perceptron"`.
        dataset: dataset name, e.g. `"blobs"`.
        metric: metric name, e.g. `"train_accuracy"`.
        value: the metric's value (a number).
        export: path of the exported SavedModel version folder, if any.
        **extra: any further JSON-serializable figures worth keeping.

    Returns:
        The printed row as a dict.

    Example:

    >>> row = report("Perceptron", "blobs", "train_accuracy", 1)
    ... # doctest: +NORMALIZE_WHITESPACE
    RESULT {"model": "Perceptron", "dataset": "blobs",
            "metric": "train_accuracy", "value": 1.0, "export": null}
    >>> row["value"]
    1.0
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
    r"""Finds the last `RESULT {json}` line in a tutorial's output.

    Returns:
        The decoded dict (see `report`), or ``None`` without such a line.

    Example:

    >>> out = 'epoch 1\nRESULT {"model": "MLP", "value": 0.97}\ndone\n'
    >>> parse_result(out)
    {'model': 'MLP', 'value': 0.97}
    >>> print(parse_result("no result here"))
    None
    """
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    return None


# -- the runner behind `refnn tutorials` ------------------------------------

SUMMARY_COLUMNS = (
    "tutorial",
    "status",
    "model",
    "dataset",
    "metric",
    "value",
    "export",
    "seconds",
)


def list_tutorials(directory=None):
    """The tutorial scripts ``NN_*.py`` in `directory`, sorted by name."""
    directory = Path(directory or TUTORIALS_DIR)
    return sorted(
        p
        for p in directory.glob("*.py")
        if len(p.stem) > 3 and p.stem[:2].isdigit() and p.stem[2] == "_"
    )


def tutorial_title(path):
    """The ``Title:`` line of a tutorial's header docstring (or '')."""
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if line.startswith("Title:"):
                return line[len("Title:") :].strip()
            if i > 20:
                break
    return ""


def select_tutorials(names=None, directory=None):
    """Resolves names to tutorial scripts.

    Args:
        names: ``None``, ``"all"`` or a list of names; a name matches by
            number (``"01"``, ``"1"``), topic (``"perceptron"``) or full stem
            (``"01_perceptron"``, with or without ``.py``).
        directory: the tutorials folder.

    Returns:
        A list of paths, in sorted order, without duplicates.

    Raises:
        ValueError: a name matching no tutorial (the message lists them).

    Example:

    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> for stem in ("01_perceptron", "02_mlp", "helpers"):
    ...     (folder / f"{stem}.py").touch()
    >>> [p.stem for p in select_tutorials(None, folder)]  # not "helpers"
    ['01_perceptron', '02_mlp']
    >>> [p.stem for p in select_tutorials(["mlp", "1", "02_mlp.py"], folder)]
    ['01_perceptron', '02_mlp']
    >>> select_tutorials(["gpt"], folder)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: no tutorial matches 'gpt'; available: ['01_perceptron',
    '02_mlp'].
    >>> shutil.rmtree(folder)
    """
    available = list_tutorials(directory)
    if names is None or names == "all" or names == ["all"]:
        return available
    if isinstance(names, str):
        names = [names]
    chosen = []
    for name in names:
        key = str(name).strip()
        if key.endswith(".py"):
            key = key[:-3]
        matches = [
            p
            for p in available
            if key == p.stem
            or key == p.stem[3:]
            or (key.isdigit() and int(key) == int(p.stem[:2]))
        ]
        if not matches:
            raise ValueError(
                f"no tutorial matches {name!r}; available: "
                f"{[p.stem for p in available]}."
            )
        chosen.extend(m for m in matches if m not in chosen)
    return sorted(chosen)


def run_tutorial(
    path, quick=False, extra_args=(), env=None, stream=None, hide=None
):
    """Runs one tutorial script in a subprocess with this Python.

    Args:
        path: the script.
        quick: pass ``--quick``.
        extra_args: further command-line arguments.
        env: environment overrides (e.g. ``REFNN_OUTPUTS``).
        stream: a text file to echo the output to as it arrives (``None``
            keeps it quiet).
        hide: a predicate on output lines not to echo (e.g. TensorFlow's
            start-up log lines); ``output`` still holds every line.

    Returns:
        A dict with the `SUMMARY_COLUMNS` (``status`` is ``"ok"`` or
        ``"FAILED"``), ``returncode``, ``result`` (the parsed RESULT line or
        ``None``) and ``output`` (stdout and stderr, interleaved).
    """
    import subprocess
    import sys
    import time

    path = Path(path)
    cmd = [sys.executable, str(path)] + (["--quick"] if quick else [])
    cmd += [str(a) for a in extra_args]
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
        cwd=os.getcwd(),
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if stream is not None and not (hide and hide(line)):
            stream.write(line)
            stream.flush()
    returncode = proc.wait()
    seconds = time.perf_counter() - start
    output = "".join(lines)
    result = parse_result(output)
    ok = returncode == 0 and result is not None
    result = result or {}
    return {
        "tutorial": path.stem,
        "status": "ok" if ok else "FAILED",
        "model": result.get("model", ""),
        "dataset": result.get("dataset", ""),
        "metric": result.get("metric", ""),
        "value": result.get("value"),
        "export": result.get("export") or "",
        "seconds": seconds,
        "returncode": returncode,
        "result": result or None,
        "output": output,
    }


def format_summary(rows):
    """A Markdown table of tutorial runs (one row per `run_tutorial` dict).

    Example:

    >>> rows = [{"tutorial": "01_perceptron", "status": "ok",
    ...          "model": "Perceptron", "value": 0.987654, "seconds": 3.21}]
    >>> print(format_summary(rows))  # doctest: +NORMALIZE_WHITESPACE
    | tutorial      | status | model      | dataset | metric | value
      | export | seconds |
    |---------------|--------|------------|---------|--------|--------|--------|---------|
    | 01_perceptron | ok     | Perceptron |         |        | 0.9877
      |        | 3.2     |
    """

    def cell(row, col):
        value = row.get(col)
        if value is None:
            return ""
        if col == "seconds":
            return f"{value:.1f}"
        if col == "value" and isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    table = [[cell(r, c) for c in SUMMARY_COLUMNS] for r in rows]
    widths = [
        max([len(c)] + [len(t[i]) for t in table])
        for i, c in enumerate(SUMMARY_COLUMNS)
    ]
    lines = [
        "| "
        + " | ".join(c.ljust(w) for c, w in zip(SUMMARY_COLUMNS, widths))
        + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for t in table:
        lines.append(
            "| " + " | ".join(v.ljust(w) for v, w in zip(t, widths)) + " |"
        )
    return "\n".join(lines)


def run_tutorials(
    names=None, quick=False, directory=None, env=None, out=None, hide=None
):
    """Runs tutorials in order and prints a summary table at the end.

    Args:
        names: see `select_tutorials`.
        quick: run each with ``--quick``.
        directory: the tutorials folder.
        env: environment overrides for the subprocesses.
        out: text file for the streamed output and the table (stdout).
        hide: see `run_tutorial`.

    Returns:
        ``(rows, ok)``: the `run_tutorial` dicts and whether all passed.
    """
    import sys

    out = out or sys.stdout
    rows = []
    for path in select_tutorials(names, directory):
        out.write(f"\n===== {path.stem} =====\n")
        out.flush()
        row = run_tutorial(path, quick=quick, env=env, stream=out, hide=hide)
        if row["status"] != "ok":
            why = (
                f"exit code {row['returncode']}"
                if row["returncode"]
                else "no RESULT line"
            )
            out.write(f"===== {path.stem} FAILED ({why}) =====\n")
        rows.append(row)
    ok = all(r["status"] == "ok" for r in rows)
    passed = sum(r["status"] == "ok" for r in rows)
    out.write(f"\n## Tutorials: {passed}/{len(rows)} passed\n\n")
    out.write(format_summary(rows) + "\n")
    out.flush()
    return rows, ok
