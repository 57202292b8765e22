"""The README's tour runs exactly as written, converges and exports."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_tour():
    """The first ```python block of README.md's "A short tour" section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A short tour") :]
    start = section.index("```python\n") + len("```python\n")
    return section[start : section.index("```", start)]


def test_the_tour_is_seeded_and_has_its_own_export_name():
    tour = readme_tour()
    assert "keras.utils.set_random_seed(0)" in tour
    assert 'export_savedmodel(mlp, "tour_mlp")' in tour
    assert "mlp_digits" not in tour  # the name of the CLI example's export


@pytest.mark.large
def test_the_tour_runs_as_written(tmp_path):
    code = readme_tour()
    # Run the block unchanged, then report what it left behind.
    epilogue = (
        "\nimport json\n"
        "print('TOUR ' + json.dumps({'path': str(path), 'val': "
        "history.history['val_sparse_categorical_accuracy']}))\n"
    )
    (tmp_path / "tour.py").write_text(code + epilogue, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "tour.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("TOUR ")][-1]
    result = json.loads(line[len("TOUR ") :])
    assert result["path"] == "savedmodels/tour_mlp/1"
    assert (
        tmp_path / "savedmodels" / "tour_mlp" / "1" / "saved_model.pb"
    ).is_file()
    assert min(result["val"][-3:]) > 0.9  # converged, not one lucky epoch
