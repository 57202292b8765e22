"""Time from typing a refnn command to its first answer.

A usage error (``refnn train mlp --dataset digits --units x``) is answered
before TensorFlow is imported; ``refnn --version`` likewise. For scale, the
time of ``python -c "import tensorflow"`` on the same machine is shown.

Usage: ``python benchmarks/cli_startup.py [--quick]`` (prints a table).
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REFNN = Path(sys.executable).parent / "refnn"


def _seconds(cmd, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, timeout=300)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 2 if args.quick else 7
    cases = [
        (
            "refnn train mlp --dataset digits --units x",
            [str(REFNN), "train", "mlp", "--dataset", "digits", "--units", "x"],
        ),
        ("refnn --version", [str(REFNN), "--version"]),
        (
            'python -c "import tensorflow"',
            [sys.executable, "-c", "import tensorflow"],
        ),
    ]
    print("| command | median s | min s | max s |")
    print("|---|---|---|---|")
    for label, cmd in cases:
        median, low, high = _seconds(
            cmd, 1 if "tensorflow" in label else repeats
        )
        print(f"| `{label}` | {median:.3f} | {low:.3f} | {high:.3f} |")


if __name__ == "__main__":
    main()
