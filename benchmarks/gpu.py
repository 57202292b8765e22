"""GPU training throughput under the JAX backend: GPT, Transformer, LSTM
classifier and a large MLP (explicit backprop).

For each model: a fixed number of `fit` steps on random tokens/rows after
one warm-up epoch (compilation), then prints tokens/s (samples/s for the
MLP), the device's peak memory (JAX `memory_stats`, GPU only) and the
model FLOPs utilisation (MFU) = training FLOPs per second / the device's
peak. Training FLOPs are counted as 6 × parameters touched per token (the
forward 2N and backward 4N multiply-adds; embedding lookups excluded),
plus 12 × layers × sequence length × hidden size per token for attention
(PaLM appendix B); the peak defaults to the H200's dense bf16 989 TFLOP/s
(`--peak-tflops`).

On a lent GPU machine (JAX with CUDA, no TensorFlow; Keras travels as
wheels in a carried, git-ignored `.wheels/` folder made here with
`pip download keras==3.15.1 -d .wheels`), one command:

    pip install --no-index --find-links .wheels keras==3.15.1 && \
    KERAS_BACKEND=jax PYTHONPATH=. python benchmarks/gpu.py \
        --steps 50 --mixed-precision bfloat16 --json $OUT/gpu.json

On a CPU, to check the script (tiny sizes, a few steps):

    KERAS_BACKEND=jax python benchmarks/gpu.py --tiny --steps 2
"""

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

SIZES = {
    # name: (batch, sequence length, hidden, layers, heads, vocabulary)
    "full": dict(batch=32, length=512, hidden=768, layers=12, heads=12,
                 vocab=32000, mlp_units=[4096, 4096, 10], mlp_batch=4096,
                 lstm_units=1024),
    "tiny": dict(batch=4, length=16, hidden=16, layers=1, heads=2, vocab=50,
                 mlp_units=[32, 10], mlp_batch=32, lstm_units=16),
}  # fmt: skip


def _param_count(model, exclude=()):
    return sum(
        int(np.prod(w.shape))
        for w in model.trainable_weights
        if not any(e in w.path for e in exclude)
    )


def _device_peak_bytes():
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def _build(name, s):
    from refnn import models

    b, t, d, v = s["batch"], s["length"], s["hidden"], s["vocab"]
    rng = np.random.default_rng(0)
    seq_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if name == "gpt":
        model = models.GPT(v, t, s["layers"], d, s["heads"])
        ids = rng.integers(0, v, (b * 4, t + 1)).astype("int32")
        x, y, tokens = ids[:, :-1], ids[:, 1:], t
        attention = 12 * s["layers"] * t * d
        model.compile(keras.optimizers.AdamW(1e-4), loss=seq_loss)
    elif name == "transformer":
        half = max(1, s["layers"] // 2)
        model = models.Transformer(v, v, t, t, half, d, s["heads"])
        x = {
            "encoder_inputs": rng.integers(5, v, (b * 4, t)).astype("int32"),
            "decoder_inputs": rng.integers(5, v, (b * 4, t)).astype("int32"),
        }
        y, tokens = rng.integers(5, v, (b * 4, t)).astype("int32"), 2 * t
        # encoder + decoder self-attention, decoder cross-attention
        attention = 12 * half * t * d * 3 / 2
        model.compile(keras.optimizers.AdamW(1e-4), loss=seq_loss)
    elif name == "lstm_classifier":
        model = models.RNNClassifier(
            v, 2, embedding_dim=d, units=s["lstm_units"], cell_type="lstm"
        )
        x = rng.integers(1, v, (b * 4, t)).astype("int32")
        y, tokens, attention = rng.integers(0, 2, b * 4), t, 0
        model.compile(
            keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy"
        )
    else:  # mlp: explicit backprop
        model = models.MLP(
            s["mlp_units"],
            activation="relu",
            output_activation="softmax",
            loss="sparse_categorical_crossentropy",
        )
        b = s["mlp_batch"]
        x = rng.normal(size=(b * 4, 1024)).astype("float32")
        y, tokens, attention = rng.integers(0, 10, b * 4), 1, 0
        model.compile(keras.optimizers.Adam(1e-3))
    return model, x, y, b, tokens, attention


def run(name, sizes, steps, peak_tflops):
    model, x, y, batch, tokens, attention = _build(name, sizes)
    fit = dict(batch_size=batch, verbose=0, shuffle=False)
    model.fit(x, y, epochs=1, **fit)  # compiles
    n = len(y)
    epochs = max(1, -(-steps * batch // n))
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, **fit)
    seconds = time.perf_counter() - start
    done = epochs * (n // batch)
    per_step = tokens * batch
    rate = done * per_step / seconds
    params = _param_count(model, exclude=("embedding",))
    flops = (6 * params + attention) * rate
    return {
        "model": name,
        "steps": done,
        "batch": batch,
        "unit": "samples/s" if name == "mlp" else "tokens/s",
        "throughput": rate,
        "step_ms": 1000 * seconds / done,
        "params_non_embedding": params,
        "peak_memory_bytes": _device_peak_bytes(),
        "mfu": flops / (peak_tflops * 1e12),
        "device": str(__import__("jax").devices()[0]),
        "policy": keras.config.dtype_policy().name,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument(
        "--mixed-precision", choices=("float16", "bfloat16"), default=None
    )
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    parser.add_argument(
        "--models", default="gpt,transformer,lstm_classifier,mlp"
    )
    parser.add_argument("--json", default=None, help="write results here")
    args = parser.parse_args()
    if keras.backend.backend() != "jax":
        raise SystemExit(
            f"run with KERAS_BACKEND=jax, got {keras.backend.backend()!r}"
        )
    if args.mixed_precision:
        keras.config.set_dtype_policy(f"mixed_{args.mixed_precision}")
    sizes = SIZES["tiny" if args.tiny else "full"]
    results = []
    for name in args.models.split(","):
        r = run(name, sizes, args.steps, args.peak_tflops)
        results.append(r)
        mem = r["peak_memory_bytes"]
        mem = "n/a" if mem is None else f"{mem / 2**30:.2f} GiB"
        print(
            f"{name:16s} {r['throughput']:12.0f} {r['unit']:9s} "
            f"{r['step_ms']:8.1f} ms/step  peak {mem:>10s}  "
            f"MFU {100 * r['mfu']:.1f}%  ({r['device']}, {r['policy']})",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
