"""refnn installed from its built wheel (not editable) works as a user's.

The wheel is built from a copy of the sources and installed with ``--no-deps``
into a fresh venv that borrows the project venv's dependencies (a ``.pth``
file), so nothing is downloaded; refnn itself comes from the wheel only.
"""

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "refnn_cli.py", "refnn", "tutorials")


def _run(cmd, cwd, timeout=300):
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, (cmd, proc.stdout[-2000:], proc.stderr[-3000:])
    return proc


@pytest.mark.large
def test_the_built_wheel_in_a_fresh_venv(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name,
                src / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            shutil.copy2(REPO / name, src / name)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps"]
        + ["--no-build-isolation", "-q", "-w", tmp_path / "dist", src],
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("refnn-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [
                python,
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            cwd=tmp_path,
        ).stdout.strip()
    )
    # The dependencies (TensorFlow, Keras...) from the project's venv.
    deps = sysconfig.get_paths()["purelib"]
    (site / "project_dependencies.pth").write_text(deps + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q"]
        + ["--no-deps", "--no-index", wheel],
        cwd=tmp_path,
    )
    work = tmp_path / "work"
    work.mkdir()
    where = _run(
        [python, "-c", "import refnn, refnn_cli; print(refnn.__file__)"],
        cwd=work,
    ).stdout.strip()
    assert where.startswith(str(site)), where  # the wheel's copy, not REPO
    refnn = venv / "bin" / "refnn"

    version = _run([refnn, "--version"], cwd=work).stdout.split()
    assert version[0] == "refnn" and version[1][0].isdigit()
    listed = _run([refnn, "tutorials", "--list"], cwd=work).stdout
    names = [line.split()[0] for line in listed.splitlines()]
    assert len(names) == len(list((REPO / "tutorials").glob("[0-9][0-9]_*.py")))
    assert names[0] == "01_perceptron"
    tutorial = _run(
        [refnn, "tutorials", "01", "--quick"], cwd=work, timeout=600
    )
    assert "1/1 passed" in tutorial.stdout
    train = _run(
        [refnn, "train", "perceptron", "--dataset", "blobs", "--epochs", "2"]
        + ["--export", "--name", "wheel"],
        cwd=work,
    )
    assert json.loads(train.stdout.splitlines()[-1])["export"] == (
        "savedmodels/wheel/1"
    )
    shown = json.loads(
        _run([refnn, "show", "savedmodels/wheel/1"], cwd=work).stdout
    )
    assert shown["model_card"]["model_class"] == "Perceptron"
    assert shown["signatures"]["serving_default"]["inputs"]["features"][
        "shape"
    ] == [None, 2]
