"""Transformer encoder training throughput: refnn vs keras_hub.

A stack of `refnn.layers.TransformerEncoderLayer` and a stack of
`keras_hub.layers.TransformerEncoder` of the same size (default 2 layers,
d = 128, 4 heads, feed-forward 512, dropout 0.1, sequence 64, batch 32),
each between the same token embedding and a per-token softmax over the
vocabulary, are trained with Adam on the same random token batch. One
measurement is `--steps` calls of `train_on_batch`; medians of `--repeats`
interleaved measurements, with `jit_compile` on and off. Reported: training
tokens per second and the ratio ``keras_hub_time / refnn_time`` (> 1:
refnn is faster), from wall-clock medians and from process CPU-time
medians of the same runs (the latter less sensitive to other
processes). refnn is timed twice: default layers and `fused_qkv=True`
(one projection matmul for query, key and value).

Run from the repository root::

    python benchmarks/transformer_encoder.py           # full
    python benchmarks/transformer_encoder.py --quick   # smoke run
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402  (sets KERAS_BACKEND before keras is imported)
import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402

from refnn.layers import TransformerEncoderLayer  # noqa: E402

VOCAB = 1000


def build(make_layer, num_layers, hidden_dim, seq, jit):
    keras.utils.set_random_seed(0)
    ids = keras.Input((seq,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, hidden_dim)(ids)
    for _ in range(num_layers):
        x = make_layer()(x)
    logits = keras.layers.Dense(VOCAB)(x)
    model = keras.Model(ids, logits)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit,
    )
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)
    if args.quick:
        layers, dim, heads, ffn, seq, batch = 1, 32, 2, 64, 16, 8
        repeats, steps = 2, 2
    else:
        layers, dim, heads, ffn, seq, batch = 2, 128, 4, 512, 64, 32
        repeats, steps = args.repeats, args.steps
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, (batch, seq)).astype("int32")
    y = rng.integers(0, VOCAB, (batch, seq)).astype("int32")
    block = dict(intermediate_dim=ffn, num_heads=heads, dropout=0.1)
    makers = {
        "keras_hub": lambda: keras_hub.layers.TransformerEncoder(**block),
        "refnn": lambda: TransformerEncoderLayer(**block),
        "refnn fused_qkv": lambda: TransformerEncoderLayer(
            fused_qkv=True, **block
        ),
    }
    rows = []
    for jit in (False, True):
        models = {
            name: build(make, layers, dim, seq, jit)
            for name, make in makers.items()
        }

        def train(model):
            def fn():
                for _ in range(steps):
                    model.train_on_batch(x, y)

            return fn

        cpu = {name: [] for name in models}

        def cpu_timed(name, fn):
            # Process CPU time (all threads) of the same runs: less
            # sensitive to other processes on a shared machine.
            def run():
                start = time.process_time()
                fn()
                cpu[name].append(time.process_time() - start)

            return run

        times = common.interleaved_medians(
            {name: cpu_timed(name, train(m)) for name, m in models.items()},
            repeats=repeats,
            warmup=1,
        )
        cpu = {name: statistics.median(t[1:]) for name, t in cpu.items()}
        tokens = steps * batch * seq
        for name in ("refnn", "refnn fused_qkv"):
            rows.append(
                {
                    "jit_compile": jit,
                    "refnn variant": name,
                    "keras_hub tokens/s": tokens / times["keras_hub"],
                    "refnn tokens/s": tokens / times[name],
                    "ratio keras_hub/refnn time": times["keras_hub"]
                    / times[name],
                    "ratio CPU time": cpu["keras_hub"] / cpu[name],
                }
            )
    print(common.machine_info())
    print(
        f"{layers} layers, d={dim}, heads={heads}, ffn={ffn}, seq={seq}, "
        f"batch={batch}, {steps} train steps per run, medians of "
        f"{repeats} interleaved runs"
    )
    print(
        common.markdown_table(
            rows,
            [
                "jit_compile",
                "refnn variant",
                "keras_hub tokens/s",
                "refnn tokens/s",
                "ratio keras_hub/refnn time",
                "ratio CPU time",
            ],
        )
    )
    return rows


if __name__ == "__main__":
    main()
