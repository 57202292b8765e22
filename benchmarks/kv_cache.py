"""GPT generation: KV cache vs recomputing the whole sequence every step.

`refnn.models.GPT.generate(..., use_cache=True)` runs the network on the new
token only and reads the keys/values of earlier tokens from the cache;
`use_cache=False` recomputes the full (fixed-size, causally masked) sequence
for every new token. Both are the same compiled `tf.function` decode loop
(greedy), timed in one process, interleaved, medians of `--repeats` runs.
Reported per number of new tokens: time per call, ms per generated token
(flat in length for the cache), and the ratio ``uncached / cached`` from
wall-clock medians and from process CPU-time medians of the same runs.

Cache memory per token is ``2 x num_layers x num_heads x head_dim x
dtype_size`` bytes (keys and values of every layer), checked against the
size of the cache tensor itself.

Run from the repository root::

    python benchmarks/kv_cache.py           # full
    python benchmarks/kv_cache.py --quick   # seconds-long smoke run
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402  (sets KERAS_BACKEND before keras is imported)
import keras  # noqa: E402
import numpy as np  # noqa: E402

from refnn.models import GPT  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jit", action="store_true", help="XLA-compile")
    args = parser.parse_args(argv)
    lengths = (8, 16) if args.quick else (64, 128, 256)
    repeats = 2 if args.quick else args.repeats
    prompt_length = 16
    config = dict(
        vocabulary_size=96,
        max_length=prompt_length + max(lengths),
        num_layers=2 if args.quick else 4,
        hidden_dim=64 if args.quick else 128,
        num_heads=4,
    )
    keras.utils.set_random_seed(0)
    model = GPT(**config)
    prompt = np.random.default_rng(0).integers(0, 96, (1, prompt_length))
    model(prompt)

    rows = []
    for n in lengths:

        def run(use_cache, n=n):
            return lambda: model.generate(
                prompt,
                n,
                temperature=0.0,
                use_cache=use_cache,
                jit_compile=args.jit,
            )

        same = np.array_equal(run(True)(), run(False)())
        cpu = {"cached": [], "recompute": []}

        def cpu_timed(name, fn):
            # Process CPU time of the same runs (less sensitive to other
            # processes on a shared machine); the warmup run is dropped.
            def timed():
                start = time.process_time()
                fn()
                cpu[name].append(time.process_time() - start)

            return timed

        t = common.interleaved_medians(
            {
                "cached": cpu_timed("cached", run(True)),
                "recompute": cpu_timed("recompute", run(False)),
            },
            repeats=repeats,
            warmup=1,
        )
        cpu = {name: statistics.median(c[1:]) for name, c in cpu.items()}
        rows.append(
            {
                "new tokens": n,
                "cached s": t["cached"],
                "recompute s": t["recompute"],
                "cached ms/token": 1e3 * t["cached"] / n,
                "recompute ms/token": 1e3 * t["recompute"] / n,
                "ratio recompute/cached": t["recompute"] / t["cached"],
                "ratio CPU time": cpu["recompute"] / cpu["cached"],
                "same tokens": same,
            }
        )

    head_dim = config["hidden_dim"] // config["num_heads"]
    formula = 2 * config["num_layers"] * config["num_heads"] * head_dim * 4
    cache = model.init_cache(1, 100)
    measured = keras.ops.convert_to_numpy(cache).nbytes / 100

    print(common.machine_info())
    print(
        f"GPT {config}, prompt {prompt_length} tokens, batch 1, greedy, "
        f"jit_compile={args.jit}, medians of {repeats} interleaved runs"
    )
    print(
        common.markdown_table(
            rows,
            [
                "new tokens",
                "cached s",
                "recompute s",
                "cached ms/token",
                "recompute ms/token",
                "ratio recompute/cached",
                "ratio CPU time",
                "same tokens",
            ],
        )
    )
    print(
        f"KV cache per token: formula 2 x {config['num_layers']} layers x "
        f"{config['num_heads']} heads x {head_dim} x 4 B = {formula} B; "
        f"measured from the cache tensor: {measured:.0f} B"
    )
    assert measured == formula
    return rows


if __name__ == "__main__":
    main()
