"""Builds the notebooks and the documentation site's generated pages.

    python docs/site_build.py notebooks  # tutorials/*.py -> build/notebooks/
    python docs/site_build.py execute    # run each in quick mode (cached)
    python docs/site_build.py pages      # tutorial and API pages into docs/
    python docs/site_build.py site       # all of the above, then mkdocs

A tutorial is a tutobook: a header docstring (Title, Description, Seed
section), then top-level `\"\"\"` prose cells between code. jupytext's
sphinx-gallery reader turns each top-level string into a markdown cell and
the code between them into a code cell; this module only adds a title cell
and a first code cell with the quick/full switch.

Executing a notebook (quick mode) writes its figures, its export and the
executed notebook under `build/tutorials/NN_topic/`, keyed by a hash of the
tutorial's source: the test suite's notebook run fills that cache and the site
build reuses it, so the tutorials run once for both.
"""

import argparse
import hashlib
import importlib
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
BUILD = REPO / "build"
NOTEBOOKS = BUILD / "notebooks"
EXECUTED = BUILD / "tutorials"
TUTORIAL_PAGES = DOCS / "tutorials"
API_PAGES = DOCS / "api"
# Modules whose public classes and functions get an API page.
API_SKIP = {"cli", "tutorials"}
CELL_TIMEOUT_S = 900

HEADER_KEYS = ("Title", "Description", "Seed section")

SWITCH_CELL = """\
# Quick mode: tiny data and few epochs, a smoke run of a minute or so.
# Set QUICK = False for the full tutorial, as `python tutorials/{name}.py`
# runs it (plots go to outputs/{name}/, the export to savedmodels/).
QUICK = True

import sys

sys.argv = ["{name}"] + (["--quick"] if QUICK else [])"""


def tutorial_paths():
    """The tutorial scripts, `tutorials/NN_topic.py`, sorted."""
    return sorted(
        p
        for p in (REPO / "tutorials").glob("*.py")
        if re.fullmatch(r"\d\d_\w+", p.stem)
    )


def parse_header(text):
    """Splits a tutobook header ("Key: value" lines) into a dict."""
    fields, key = {}, None
    for line in text.splitlines():
        match = re.match(r"^(%s):\s*(.*)$" % "|".join(HEADER_KEYS), line)
        if match:
            key = match.group(1)
            fields[key] = match.group(2).strip()
        elif key and line.strip():
            fields[key] += " " + line.strip()
    missing = [k for k in HEADER_KEYS if k not in fields]
    if missing:
        raise ValueError(f"tutorial header lacks {missing}: {text[:200]!r}")
    return fields


def source_hash(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def to_notebook(path):
    """The notebook for one tutorial (nbformat v4, not executed)."""
    import jupytext
    import nbformat

    path = Path(path)
    nb = jupytext.read(path, fmt="py:sphinx")
    cells = [
        c
        for c in nb.cells
        if c.source.strip() != "%matplotlib inline"  # sphinx-gallery's
    ]
    if not cells or cells[0].cell_type != "markdown":
        raise ValueError(f"{path.name} does not start with its header")
    header = parse_header(cells[0].source)
    title = nbformat.v4.new_markdown_cell(
        f"# {header['Title']}\n\n{header['Description']}\n\n"
        f"**Seed sections:** {header['Seed section']}\n\n"
        f"*Generated from `tutorials/{path.name}`; run the script with "
        f"`python tutorials/{path.name}` or this notebook cell by cell.*"
    )
    switch = nbformat.v4.new_code_cell(SWITCH_CELL.format(name=path.stem))
    nb.cells = [title, switch] + cells[1:]
    nb.metadata = {
        "kernelspec": {
            "display_name": "Python 3",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
        "refnn": {"tutorial": path.name, "source_hash": source_hash(path)},
    }
    for index, cell in enumerate(nb.cells):
        cell.metadata = {}
        cell["id"] = f"{path.stem[:2]}-{index:03d}"  # stable across builds
    nbformat.validate(nb)
    return nb


def write_notebooks(out_dir=NOTEBOOKS):
    """Writes `NN_topic.ipynb` for every tutorial; returns their paths."""
    import nbformat

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in tutorial_paths():
        target = out_dir / f"{path.stem}.ipynb"
        nbformat.write(to_notebook(path), target)
        paths.append(target)
    return paths


def stream_text(nb, name="stdout"):
    """Everything the executed notebook printed on one stream."""
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == name
    )


def execute_tutorial(path, work_dir=None, timeout=CELL_TIMEOUT_S):
    """Runs one tutorial's notebook in quick mode in a fresh kernel.

    Plots go to `work_dir/outputs/NN_topic/`, the export under
    `work_dir/savedmodels/`; the PNGs a code cell wrote are recorded in its
    metadata (`refnn.figures`) so a page can show them after that cell.

    Returns:
        A dict with `notebook` (the executed notebook), `result` (the
        tutorial's `RESULT` line as a dict, or None), `stdout`, `figures`
        (paths of the PNGs written) and `seconds`; also written to
        `work_dir/executed.ipynb` and `work_dir/run.json`.
    """
    import nbformat
    from nbclient import NotebookClient

    from refnn.tutorials import parse_result

    path = Path(path)
    work_dir = Path(work_dir or EXECUTED / path.stem)
    if work_dir.exists():
        shutil.rmtree(work_dir)
    outputs = work_dir / "outputs"
    figure_dir = outputs / path.stem
    figure_dir.mkdir(parents=True)
    nb = to_notebook(path)
    seen = set()

    def record_figures(cell, cell_index, execute_reply):
        new = sorted(
            p.relative_to(figure_dir).as_posix()
            for p in figure_dir.glob("**/*.png")
            if p not in seen
        )
        seen.update(figure_dir / n for n in new)
        if new:
            cell.metadata["refnn"] = {"figures": new}

    env = {
        **os.environ,
        "REFNN_OUTPUTS": str(outputs),
        "REFNN_SAVEDMODELS": str(work_dir / "savedmodels"),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        "MPLBACKEND": "Agg",
    }
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO)}},
        on_cell_executed=record_figures,
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute(env=env)
    except Exception as exc:  # the notebook's own error, kept for the report
        error = exc
    seconds = time.perf_counter() - start
    stdout = stream_text(nb)
    nbformat.write(nb, work_dir / "executed.ipynb")
    run = {
        "tutorial": path.name,
        "source_hash": source_hash(path),
        "result": None if error else parse_result(stdout),
        "error": None if error is None else str(error)[-4000:],
        "figures": sorted(
            p.relative_to(figure_dir).as_posix()
            for p in figure_dir.glob("**/*.png")
        ),
        "seconds": round(seconds, 1),
    }
    (work_dir / "run.json").write_text(json.dumps(run, indent=1))
    return {**run, "notebook": nb, "stdout": stdout, "work_dir": work_dir}


def cached_run(path):
    """The last quick run of `path` if its source has not changed since."""
    run_file = EXECUTED / Path(path).stem / "run.json"
    if not run_file.exists():
        return None
    run = json.loads(run_file.read_text())
    if run["source_hash"] != source_hash(path) or run["error"]:
        return None
    return run


def execute_all(force=False, jobs=2):
    """Executes every tutorial notebook whose cached run is stale.

    `jobs` notebooks run at once, each in its own kernel process (the
    tutorials' quick runs are independent: each writes under its own
    `build/tutorials/NN_topic/`).
    """
    import concurrent.futures

    paths = tutorial_paths()
    runs = {}
    stale = []
    for path in paths:
        run = None if force else cached_run(path)
        if run is None:
            stale.append(path)
        else:
            print(f"{path.name}: cached quick run ({run['seconds']:.0f} s)")
            runs[path] = run
    if stale:
        print(
            f"executing {len(stale)} notebooks in quick mode, {jobs} at a "
            "time ...",
            flush=True,
        )
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        futures = {pool.submit(execute_tutorial, p): p for p in stale}
        for done, future in enumerate(
            concurrent.futures.as_completed(futures), 1
        ):
            path, run = futures[future], future.result()
            if run["error"]:
                raise SystemExit(f"{path.name} failed:\n{run['error']}")
            print(
                f"  [{done}/{len(stale)}] {path.name}: {run['seconds']:.0f} s",
                flush=True,
            )
            runs[path] = run
    return [runs[p] for p in paths]


# -- pages ------------------------------------------------------------------


def _fence(text, lang):
    ticks = "````" if "```" in text else "```"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}\n"


def _clip(text, max_lines=60):
    lines = text.rstrip().splitlines()
    if len(lines) <= max_lines:
        return "\n".join(lines)
    cut = len(lines) - max_lines
    return "\n".join(lines[: max_lines // 2] + [f"... ({cut} lines)"]) + (
        "\n" + "\n".join(lines[-max_lines // 2 :])
    )


def tutorial_page(path, executed):
    """The markdown page of one tutorial from its executed notebook."""
    import nbformat

    name = Path(path).stem
    nb = nbformat.read(executed, as_version=4)
    parts = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            parts.append(cell.source.strip() + "\n")
            if index == 0:
                parts.append(
                    f"[Download the notebook](../notebooks/{name}.ipynb){{ "
                    f'.md-button download="{name}.ipynb" }} '
                    "Figures and printed output below come from a quick-mode "
                    "run made when this site was built.\n"
                )
            continue
        parts.append(_fence(cell.source, "python"))
        printed = "".join(
            o.get("text", "")
            for o in cell.get("outputs", [])
            if o.get("output_type") == "stream" and o.get("name") == "stdout"
        )
        if printed.strip():
            parts.append(_fence(_clip(printed), "text"))
        for figure in cell.metadata.get("refnn", {}).get("figures", []):
            parts.append(f"![{name}: {figure}](figures/{name}/{figure})\n")
    return "\n".join(parts)


def write_tutorial_pages():
    """Tutorial pages, their figures and notebooks into docs/."""
    if TUTORIAL_PAGES.exists():
        shutil.rmtree(TUTORIAL_PAGES)
    (TUTORIAL_PAGES / "figures").mkdir(parents=True)
    notebooks = DOCS / "notebooks"
    if notebooks.exists():
        shutil.rmtree(notebooks)
    notebooks.mkdir()
    rows = []
    for path in tutorial_paths():
        work = EXECUTED / path.stem
        run = cached_run(path)
        if run is None:
            raise SystemExit(
                f"no quick run of {path.name} is up to date: run "
                "`python docs/site_build.py execute` first"
            )
        shutil.copytree(
            work / "outputs" / path.stem,
            TUTORIAL_PAGES / "figures" / path.stem,
        )
        shutil.copy(NOTEBOOKS / f"{path.stem}.ipynb", notebooks)
        page = tutorial_page(path, work / "executed.ipynb")
        (TUTORIAL_PAGES / f"{path.stem}.md").write_text(page)
        rows.append((path.stem, run))
    lines = [
        "# Tutorials\n",
        "Each tutorial is a script in `tutorials/` and a notebook built from "
        "it (`make notebooks`). The pages show the code, what it printed and "
        "the figures of a quick-mode run made when the site was built.\n",
        "| # | tutorial | quick-run result |",
        "|---|---|---|",
    ]
    for stem, run in rows:
        result = run["result"] or {}
        value = result.get("value")
        shown = (
            f"{result.get('metric')} = {value:.3g}" if value is not None else ""
        )
        title = _title_of(stem)
        lines.append(f"| {stem[:2]} | [{title}]({stem}.md) | {shown} |")
    (TUTORIAL_PAGES / "index.md").write_text("\n".join(lines) + "\n")


def _title_of(stem):
    text = (REPO / "tutorials" / f"{stem}.py").read_text()
    match = re.search(r"^Title:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else stem


def public_symbols(module):
    """Public classes and functions of a refnn module, by name."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_")
            and callable(obj)
            and getattr(obj, "__module__", "").startswith(module.__name__)
        ]
    return sorted(
        n
        for n in names
        if callable(getattr(module, n))
        and getattr(getattr(module, n), "__module__", "").startswith("refnn")
    )


def api_modules():
    import refnn

    names = sorted(m.name for m in pkgutil.iter_modules(refnn.__path__))
    return [
        importlib.import_module(f"refnn.{n}")
        for n in names
        if n not in API_SKIP
    ]


def write_api_pages():
    """One page per public class/function, grouped by module."""
    if API_PAGES.exists():
        shutil.rmtree(API_PAGES)
    API_PAGES.mkdir(parents=True)
    index = [
        "# API reference\n",
        "Generated from the docstrings: each page shows the summary, the "
        "seed formula, `Args`, `Returns`, an example and the source.\n",
    ]
    for module in api_modules():
        symbols = public_symbols(module)
        if not symbols:
            continue
        short = module.__name__.split(".", 1)[1]
        (API_PAGES / short).mkdir()
        summary = (module.__doc__ or "").strip().split("\n")[0]
        index.append(f"## `{module.__name__}`\n\n{summary}\n")
        for name in symbols:
            extra = DOCS / "formulas" / f"{name}.md"
            body = [f"# `{module.__name__}.{name}`\n"]
            if extra.exists():
                body.append(f'--8<-- "docs/formulas/{name}.md"\n')
            body.append(
                f"::: {module.__name__}.{name}\n"
                "    options:\n"
                "      show_root_heading: false\n"
            )
            (API_PAGES / short / f"{name}.md").write_text("\n".join(body))
            index.append(f"- [`{name}`]({short}/{name}.md)")
        index.append("")
    (API_PAGES / "index.md").write_text("\n".join(index) + "\n")


def mkdocs_build():
    """`mkdocs build` into site/ (docstring warnings are printed, not fatal:
    the browser test checks what a reader would hit, broken links)."""
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet"],
        cwd=REPO,
        check=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "step", choices=("notebooks", "execute", "pages", "site")
    )
    parser.add_argument(
        "--force", action="store_true", help="re-run every notebook"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="notebooks run at once (default 2)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    paths = write_notebooks()
    print(f"{len(paths)} notebooks in {NOTEBOOKS.relative_to(REPO)}/")
    if args.step in ("execute", "site"):
        execute_all(force=args.force, jobs=args.jobs)
    if args.step in ("pages", "site"):
        write_tutorial_pages()
        write_api_pages()
    if args.step == "site":
        mkdocs_build()
        print(f"site/ built in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
