"""Every tutorial as a notebook: built by jupytext, executed in quick mode.

This is the tutorial test. Each `tutorials/NN_topic.py` becomes the notebook
`make notebooks` builds; nbclient runs it in a fresh kernel (quick mode, plots
and export under `build/tutorials/NN_topic/`) and the test checks what the
tutorial promises: its `RESULT` line, its PNGs, its export. The site build
reuses these runs instead of running the tutorials again.
"""

import ast
import math
from pathlib import Path

import pytest
import site_build as build

TUTORIALS = build.tutorial_paths()
IDS = [p.stem for p in TUTORIALS]


def _prose_strings(path):
    """The `\"\"\"` prose cells of a tutobook: top-level string statements."""
    tree = ast.parse(path.read_text())
    return [
        node.value.value.strip()
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]


def _hidden_prose(path):
    """String statements inside functions that are not their docstrings."""
    hidden = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for index, stmt in enumerate(node.body):
                if (
                    index > 0
                    and isinstance(stmt, ast.Expr)
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                ):
                    hidden.append((node.name, stmt.lineno))
    return hidden


def test_there_are_fifteen_tutorials():
    assert [p.stem[:2] for p in TUTORIALS] == [f"{i:02d}" for i in range(1, 16)]


@pytest.mark.parametrize("path", TUTORIALS, ids=IDS)
def test_notebook_structure(path):
    nb = build.to_notebook(path)
    header, *prose = _prose_strings(path)
    assert prose, f"{path.name} has no prose cells"
    assert _hidden_prose(path) == [], (
        f"{path.name}: prose inside a function does not become a cell"
    )
    title, switch = nb.cells[0], nb.cells[1]
    fields = build.parse_header(header)
    assert title.cell_type == "markdown"
    assert title.source.startswith(f"# {fields['Title']}\n")
    assert fields["Seed section"] in title.source
    assert switch.cell_type == "code"
    assert "QUICK = True" in switch.source
    assert f'sys.argv = ["{path.stem}"]' in switch.source
    cells = nb.cells[2:]
    markdown = [c.source.strip() for c in cells if c.cell_type == "markdown"]
    assert markdown == prose
    code = "\n".join(c.source for c in nb.cells[2:] if c.cell_type == "code")
    assert "__main__" not in code
    assert f'parse_args("{path.stem}")' in code


@pytest.mark.large
@pytest.mark.parametrize("path", TUTORIALS, ids=IDS)
def test_notebook_runs_in_quick_mode(path):
    run = build.execute_tutorial(path)
    tail = run["stdout"][-4000:]
    assert run["error"] is None, f"{path.name} failed:\n{run['error']}"
    result = run["result"]
    assert result is not None, f"{path.name} printed no RESULT line:\n{tail}"
    for key in ("model", "dataset", "metric", "value"):
        assert key in result, f"RESULT lacks {key!r}: {result}"
    assert isinstance(result["value"], (int, float))
    assert math.isfinite(result["value"]), f"non-finite value: {result}"
    figure_dir = run["work_dir"] / "outputs" / path.stem
    pngs = sorted(figure_dir.glob("**/*.png"))
    assert pngs, f"{path.name} wrote no PNG into {figure_dir}"
    assert all(p.stat().st_size > 0 for p in pngs)
    shown = [
        f
        for cell in run["notebook"].cells
        for f in cell.metadata.get("refnn", {}).get("figures", [])
    ]
    assert sorted(shown) == run["figures"], "a figure is not after its cell"
    # The tutorial tells where it wrote its plots and its export.
    assert str(figure_dir) in run["stdout"], f"no plot folder printed:\n{tail}"
    if result.get("export"):
        export = Path(result["export"])
        assert (export / "saved_model.pb").exists()
        savedmodels = run["work_dir"] / "savedmodels"
        assert savedmodels.resolve() in export.resolve().parents
        assert str(export) in run["stdout"]
