"""Shared helpers for the benchmark scripts: timing, machine, tables.

Every benchmark measures refnn and its anchor in the same process, on the
same data, and reports medians of several runs and the ratio
``anchor_time / refnn_time`` (> 1 means refnn is faster).
"""

import os
import platform
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def median_seconds(fn, repeats=5, warmup=1):
    """Median wall time of `fn()` over `repeats` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(fns, repeats=5, warmup=1):
    """Medians for several callables, run round-robin to share the noise.

    Args:
        fns: dict name -> zero-argument callable.

    Returns:
        dict name -> median seconds.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def interleaved_wall_and_cpu(fns, repeats=5, warmup=1):
    """Medians of wall time and of process CPU time, runs interleaved.

    CPU time (all threads of this process) is far less disturbed than wall
    time when other processes share the cores.

    Args:
        fns: dict name -> zero-argument callable.

    Returns:
        ``(wall, cpu)``: two dicts name -> median seconds.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    wall = {name: [] for name in fns}
    cpu = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    med = statistics.median
    return (
        {k: med(v) for k, v in wall.items()},
        {k: med(v) for k, v in cpu.items()},
    )


def machine_info():
    """One line naming the machine, Python, TensorFlow and Keras."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )


def markdown_table(rows, columns):
    """Formats a list of dicts as a Markdown table with the given columns."""

    def fmt(value):
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return str(value)

    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        lines.append(
            "| " + " | ".join(fmt(row.get(c, "")) for c in columns) + " |"
        )
    return "\n".join(lines)
