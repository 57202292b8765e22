"""Training throughput of refnn's SimpleRNN / LSTM / GRU vs Keras's own.

Both sides train the same model (`Input -> RNN(units) -> Dense(1)`, MSE,
SGD, float32) on the same batches, in one process, with XLA off and on.
Each timed run is `train_on_batch` over several batches; the table shows
the medians of interleaved runs in sequences per second and the ratio
`keras_time / refnn_time` (> 1: refnn is faster), for wall time and for
process CPU time (steadier when other jobs share the cores).

On CPU Keras's TensorFlow backend runs its generic `tf.while_loop` RNN:
per step it slices the input, does `x_t @ kernel` and `h @ recurrent_kernel`
and the gate math, and in the backward pass accumulates both weight
gradients step by step. refnn computes `x @ kernel + bias` for all steps in
one matmul before the loop (and its gradient in one matmul after it).

Run from the repository root:

    python benchmarks/rnn_throughput.py            # full run
    python benchmarks/rnn_throughput.py --quick    # seconds-long smoke run
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from common import (  # noqa: E402
    interleaved_wall_and_cpu,
    machine_info,
    markdown_table,
)

import refnn.layers  # noqa: E402


def build(layer, seq_len, input_dim, jit):
    model = keras.Sequential(
        [keras.Input((seq_len, input_dim)), layer, keras.layers.Dense(1)]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=jit
    )
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--input-dim", type=int, default=32)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--layers", default="LSTM,GRU,SimpleRNN", help="comma-separated"
    )
    parser.add_argument("--jit", default="off,on", help="off,on")
    parser.add_argument(
        "--no-fused",
        action="store_true",
        help="refnn: the reference path (refnn.config.set_fast_path(False))",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.units, args.seq_len, args.batch = 16, 8, 8
        args.batches, args.repeats = 2, 5
    if args.no_fused:
        refnn.config.set_fast_path(False)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    shape = (args.batch, args.seq_len, args.input_dim)
    data = [
        (
            rng.normal(size=shape).astype("float32"),
            rng.normal(size=(args.batch, 1)).astype("float32"),
        )
        for _ in range(args.batches)
    ]

    rows = []
    for name in args.layers.split(","):
        for jit in [j == "on" for j in args.jit.split(",")]:
            models = {}
            for side, module in [
                ("keras", keras.layers),
                ("refnn", refnn.layers),
            ]:
                models[side] = build(
                    getattr(module, name)(args.units),
                    args.seq_len,
                    args.input_dim,
                    jit,
                )
            models["refnn"].set_weights(models["keras"].get_weights())

            def run(model):
                def fn():
                    for x, y in data:
                        model.train_on_batch(x, y)

                return fn

            times = interleaved_wall_and_cpu(
                {side: run(m) for side, m in models.items()},
                repeats=args.repeats,
            )
            wall, cpu = times
            k_wall, r_wall = wall["keras"], wall["refnn"]
            k_cpu, r_cpu = cpu["keras"], cpu["refnn"]
            n_seq = args.batch * args.batches
            rows.append(
                {
                    "layer": name,
                    "XLA": "on" if jit else "off",
                    "keras seq/s": n_seq / k_wall,
                    "refnn seq/s": n_seq / r_wall,
                    "ratio keras/refnn": k_wall / r_wall,
                    "CPU-time ratio": k_cpu / r_cpu,
                }
            )
            print(rows[-1], flush=True)

    print()
    print(machine_info())
    print(
        f"units={args.units}, seq_len={args.seq_len}, batch={args.batch}, "
        f"input_dim={args.input_dim}, {args.batches} batches per run, "
        f"median of {args.repeats} interleaved runs, float32, SGD + MSE, "
        f"refnn backward: {'autodiff' if args.no_fused else 'hand-written'}"
    )
    print(
        markdown_table(
            rows,
            [
                "layer",
                "XLA",
                "keras seq/s",
                "refnn seq/s",
                "ratio keras/refnn",
                "CPU-time ratio",
            ],
        )
    )
    return rows


if __name__ == "__main__":
    main()
