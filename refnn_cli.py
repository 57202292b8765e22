"""The ``refnn`` console script's entry point.

Importing the ``refnn`` package imports TensorFlow (it registers every
serializable class), which takes seconds. This launcher loads
``refnn/cli.py`` on its own, without its package, so arguments are parsed
and checked, and a usage error printed, before TensorFlow starts; the
commands import refnn (and TensorFlow) once the arguments are valid.

Scripts such as the tutorials start with `import_refnn`, which imports
refnn the way the commands do: TensorFlow's start-up log lines hidden.
"""

import importlib.util
import os
import sys
from pathlib import Path


def _load_cli():
    spec = importlib.util.find_spec("refnn")  # finds, does not import
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the refnn package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "cli.py"
    cli_spec = importlib.util.spec_from_file_location("refnn_cli._cli", path)
    module = importlib.util.module_from_spec(cli_spec)
    cli_spec.loader.exec_module(module)
    return module


def import_refnn(verbose=None):
    """Imports refnn (and TensorFlow) with TensorFlow's start-up lines hidden.

    Call it before anything imports TensorFlow or Keras: the oneDNN notice,
    "Could not find cuda drivers" and the other C++ log lines TensorFlow
    writes while it starts are dropped, anything else written then still
    shows (see `refnn.cli`).

    Args:
        verbose: show every line; `None` (the default) reads `--verbose`
            in `sys.argv` or the environment variable `REFNN_VERBOSE=1`.
    """
    if verbose is None:
        verbose = "--verbose" in sys.argv[1:] or os.environ.get(
            "REFNN_VERBOSE", ""
        ) not in ("", "0")
    _load_cli()._import_refnn(verbose)


def main(argv=None):
    """Runs ``refnn`` (see `refnn.cli`); returns the exit status."""
    return _load_cli().main(argv)


if __name__ == "__main__":
    sys.exit(main())
