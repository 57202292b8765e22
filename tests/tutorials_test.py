"""Runs every tutorial in quick mode and checks what it promises.

Each `tutorials/NN_*.py` found at collection time runs in its own Python
subprocess with ``--quick``, plots and exports redirected to a temp folder.
"""

import math
from pathlib import Path

import pytest

from refnn import tutorials

TUTORIALS = tutorials.list_tutorials()


@pytest.mark.large
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_quick_run(path, tmp_path):
    out = tmp_path / "out"
    savedmodels = tmp_path / "savedmodels"
    row = tutorials.run_tutorial(
        path,
        quick=True,
        extra_args=["--out", out, "--savedmodels", savedmodels],
        env={
            "REFNN_OUTPUTS": str(tmp_path / "outputs"),
            "REFNN_SAVEDMODELS": str(savedmodels),
        },
    )
    tail = row["output"][-4000:]
    assert row["returncode"] == 0, f"{path.name} failed:\n{tail}"
    result = row["result"]
    assert result is not None, f"{path.name} printed no RESULT line:\n{tail}"
    for key in ("model", "dataset", "metric", "value"):
        assert key in result, f"RESULT lacks {key!r}: {result}"
    assert isinstance(result["value"], (int, float))
    assert math.isfinite(result["value"]), f"non-finite value: {result}"
    pngs = sorted(out.glob("**/*.png"))
    assert pngs, f"{path.name} wrote no PNG into --out ({out})"
    assert all(p.stat().st_size > 0 for p in pngs)
    if result.get("export"):
        export = Path(result["export"])
        assert (export / "saved_model.pb").exists(), (
            f"export {export} holds no saved_model.pb"
        )
        assert savedmodels.resolve() in export.resolve().parents, (
            f"export {export} is not under --savedmodels {savedmodels}"
        )
