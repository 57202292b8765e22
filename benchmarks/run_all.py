"""Runs every benchmark script and collects their tables in RESULTS.md.

Usage (from the repository root)::

    python benchmarks/run_all.py            # full runs -> benchmarks/RESULTS.md
    python benchmarks/run_all.py --quick    # seconds-long smoke runs, no file
    python benchmarks/run_all.py --only mlp_backprop --output /tmp/r.md

Each ``benchmarks/*.py`` (except ``common.py`` and this file) runs in its own
subprocess, in name order, with ``--quick`` passed through; its output is
streamed, and the Markdown tables it prints (runs of lines starting with
``|``) are concatenated under a heading per script, after the machine line
and the date. A script that fails is listed as FAILED and makes the exit
status non-zero.
"""

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"common.py", "run_all.py"}


def benchmark_scripts(only=None):
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in SKIP)
    if only:
        wanted = {o.removesuffix(".py") for o in only}
        unknown = wanted - {p.stem for p in scripts}
        if unknown:
            raise SystemExit(
                f"run_all.py: error: unknown benchmark(s) {sorted(unknown)}; "
                f"available: {[p.stem for p in scripts]}"
            )
        scripts = [p for p in scripts if p.stem in wanted]
    return scripts


def markdown_tables(text):
    """The Markdown tables in `text`: lists of consecutive '|' lines."""
    tables, current = [], []
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            current.append(line.strip())
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def run_script(path, quick):
    cmd = [sys.executable, str(path)] + (["--quick"] if quick else [])
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=HERE.parent,
        env=env,
    )
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    returncode = proc.wait()
    return returncode, "".join(lines), time.perf_counter() - start


def machine_line():
    sys.path.insert(0, str(HERE))
    try:
        from common import machine_info

        return machine_info()
    finally:
        sys.path.remove(str(HERE))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", default=None)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="Markdown file (default: benchmarks/RESULTS.md for full runs, "
        "none for --quick)",
    )
    args = parser.parse_args(argv)
    output = args.output
    if output is None and not args.quick:
        output = HERE / "RESULTS.md"

    sections, failed = [], []
    for path in benchmark_scripts(args.only):
        print(f"\n===== {path.name} =====", flush=True)
        code, text, seconds = run_script(path, args.quick)
        command = f"python benchmarks/{path.name}" + (
            " --quick" if args.quick else ""
        )
        body = [f"## {path.stem}", "", f"`{command}` ({seconds:.0f} s)", ""]
        if code != 0:
            failed.append(path.stem)
            body.append(f"**FAILED** (exit code {code})")
            body.append("")
        tables = markdown_tables(text)
        if not tables and code == 0:
            body.append("(no table printed)")
            body.append("")
        for table in tables:
            body.extend(table)
            body.append("")
        sections.append("\n".join(body))

    now = datetime.datetime.now(datetime.timezone.utc)
    header = [
        "# Benchmark results",
        "",
        f"Machine: {machine_line()}",
        "",
        f"Date: {now:%Y-%m-%d %H:%M} UTC"
        + (" (quick smoke run: timings not meaningful)" if args.quick else ""),
        "",
        "Ratios are `anchor_time / refnn_time` (> 1: refnn is faster), "
        "medians of interleaved runs in one process.",
        "",
    ]
    report = "\n".join(header + sections).rstrip() + "\n"
    if output is not None:
        output.write_text(report, encoding="utf-8")
        print(f"\nwrote {output}")
    summary = f"{len(sections) - len(failed)}/{len(sections)} benchmarks ran"
    if failed:
        summary += f"; FAILED: {', '.join(failed)}"
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
