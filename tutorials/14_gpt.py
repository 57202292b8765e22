"""
Title: A character-level GPT: sampling, the context window and the KV cache
Description: Train a small decoder-only Transformer on the offline template
    corpus, sample from it at several temperatures and top-k values, hit the
    context window on purpose, and time cached against uncached generation.
Seed section: 002 "Transformer Architecture" (Architecture Variants: GPT),
    "Overview of Transformer Model Functionality", "Concept of Context
    Window".
"""

import refnn_cli

# refnn and TensorFlow start here, TensorFlow's start-up log lines hidden
# (`--verbose` or REFNN_VERBOSE=1 shows them).
refnn_cli.import_refnn()

import math  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.data.text import make_corpus  # noqa: E402
from refnn.export import export_savedmodel  # noqa: E402
from refnn.models import GPT  # noqa: E402
from refnn.text import CharTokenizer  # noqa: E402

"""
## From tokens to the next token

The seed's overview of a Transformer: the prompt is split into tokens, each
token id becomes an embedding vector, attention blocks refine the vectors
using the other tokens, and a final softmax gives "a probability
distribution for the next token to generate". A GPT is exactly this, with
a *causal* mask: position t only attends to positions ≤ t, so the same
network trained on every position at once learns

    p(x_{t+1} | x_1 .. x_t) = softmax(W h_t + b).

We use characters as tokens (`refnn.text.CharTokenizer`), so the model
must learn spelling as well as which words follow which.
"""


def make_windows(ids, window, stride):
    starts = np.arange(0, len(ids) - window - 1, stride)
    x = np.stack([ids[s : s + window] for s in starts]).astype("int32")
    y = np.stack([ids[s + 1 : s + window + 1] for s in starts])
    return x, y.astype("int32")


"""
## Sampling: temperature and top-k

`generate` draws each next token from softmax(logits / T). T → 0 is greedy
(always the most likely token: safe but repetitive); T = 1 is the model's
own distribution; larger T flattens it (more surprising, more mistakes).
`top_k=k` keeps only the k most likely tokens before sampling.
"""


def distinct_ratio(texts):
    """Distinct character 4-grams / all 4-grams: a diversity measure."""
    grams = [t[i : i + 4] for t in texts for i in range(len(t) - 3)]
    return len(set(grams)) / max(1, len(grams))


args = refnn.tutorials.parse_args("14_gpt")
keras.utils.set_random_seed(0)
sentences = make_corpus(250 if args.quick else 1500, seed=0)
text = "\n".join(sentences) + "\n"
tokenizer = CharTokenizer.from_corpus(text)
ids = np.array(tokenizer.tokenize(text), "int32")
split = int(0.9 * len(ids))
window = 64
x, y = make_windows(ids[:split], window, stride=24)
vx, vy = make_windows(ids[split:], window, stride=window)
print(
    f"{len(text)} characters, vocabulary {tokenizer.vocabulary_size}, "
    f"{len(x)} training windows of {window}"
)

"""
## The model and its context window

`max_length` is the context window: "the maximum number of tokens a
model can handle at once, including both the input prompt and the
output generated so far". The learned position embedding has exactly
`max_length` rows; there is no position beyond it.
"""
model = GPT(
    vocabulary_size=tokenizer.vocabulary_size,
    max_length=96,
    num_layers=2,
    hidden_dim=64,
    num_heads=4,
    dropout=0.0,
)
model.compile(
    optimizer=keras.optimizers.Adam(3e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
)
steps = math.ceil(len(x) / 32)
every = max(1, steps // 20)  # about 20 progress lines per epoch
curve = []  # (epoch as a fraction, running mean of the training loss)
clock = time.perf_counter()


def record_batch(batch, logs):
    curve.append(((len(curve) + 1) / steps, logs["loss"]))
    if (batch + 1) % every == 0 or batch + 1 == steps:
        print(
            f"  step {batch + 1}/{steps}: loss {logs['loss']:.3f} "
            f"({time.perf_counter() - clock:.0f} s)",
            flush=True,
        )


print(
    "training: the first step traces the model into a TensorFlow graph, "
    "which takes a while (tens of seconds on a laptop CPU)",
    flush=True,
)
history = model.fit(
    x,
    y,
    validation_data=(vx, vy),
    batch_size=32,
    epochs=1 if args.quick else 2,
    verbose=2,
    callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=record_batch)],
)
val_loss = history.history["val_loss"][-1]
uniform = math.log(tokenizer.vocabulary_size)
print(
    f"validation loss {val_loss:.3f} nats/char (uniform guess: {uniform:.3f})"
)

fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(*zip(*curve), "-", label="training (running mean in the epoch)")
epochs_done = np.arange(1, len(history.history["val_loss"]) + 1)
ax.plot(epochs_done, history.history["val_loss"], "o", label="validation")
ax.axhline(uniform, ls="--", c="gray", label="uniform guess, ln |V|")
ax.set_xlim(0, epochs_done[-1])
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_xlabel(f"epochs of training ({steps} steps of 32 windows each)")
ax.set_ylabel("cross-entropy (nats / char)")
ax.set_title("Character GPT: next-character loss")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(args.out / "gpt_loss.png", dpi=100)
plt.close(fig)

"""
## Samples
"""
prompt = np.array([tokenizer.tokenize("the king ")], "int32")
new = 24 if args.quick else 60
samples = {}
for temperature, top_k in (
    (0.0, None),
    (0.7, None),
    (1.0, 10),
    (1.5, None),
):
    out = model.generate(
        np.repeat(prompt, 3, axis=0),
        new,
        temperature=temperature,
        top_k=top_k,
        seed=1,
    )
    texts = [tokenizer.detokenize(row) for row in out]
    samples[(temperature, top_k)] = texts
    print(
        f"T={temperature} top_k={top_k}: diversity {distinct_ratio(texts):.2f}"
    )
    for t in texts[:2]:
        print("   ", repr(t))

"""
## Hitting the context window

A prompt of 90 characters plus 20 new tokens needs 110 positions; the
model has 96. By default `generate` refuses with an error naming both
lengths; `truncate="left"` keeps the *last* 76 prompt tokens (the oldest
context is forgotten, as in a chat that outgrows its window).
"""
long_prompt = np.array([ids[:90]], "int32")
try:
    model.generate(long_prompt, 20)
    raise AssertionError("a too-long request must raise")
except ValueError as error:
    print("ValueError:", error)
kept = model.generate(long_prompt, 20, temperature=0.0, truncate="left")
assert kept.shape == (1, 96), kept.shape

"""
## The KV cache

Generating token t+1 needs the keys and values of all earlier tokens in
every layer. Without a cache the whole sequence is recomputed for every
new token; with it, the network runs on the new token only and reads
the earlier keys/values from a cache of
2 × layers × heads × head_dim floats per token.
"""
n = 24 if args.quick else 64
timings = {}
for use_cache in (True, False):
    model.generate(prompt, n, temperature=0.0, use_cache=use_cache)
    start = time.perf_counter()
    out = model.generate(prompt, n, temperature=0.0, use_cache=use_cache)
    timings[use_cache] = (time.perf_counter() - start, out)
same = np.array_equal(timings[True][1], timings[False][1])
speedup = timings[False][0] / timings[True][0]
per_token = 2 * model.num_layers * model.num_heads * model.head_dim * 4
print(
    f"{n} tokens: cached {1e3 * timings[True][0] / n:.2f} ms/token, "
    f"recomputed {1e3 * timings[False][0] / n:.2f} ms/token "
    f"({speedup:.1f}x), same tokens: {same}; cache {per_token} B/token"
)

"""
## Export

The SavedModel has two endpoints: `serving_default` (token ids →
next-token logits) and `generate` (prompt ids and `max_new_tokens` →
greedy continuation, the whole cached decode loop inside the graph).
"""
path = export_savedmodel(model, "14_gpt_char", base_dir=args.savedmodels)
print("exported to", path)

assert same, "cached and uncached greedy decoding must agree"
# Quick mode trains for a few steps only.
assert val_loss < (0.9 if args.quick else 0.6) * uniform, (
    f"the GPT should beat a uniform guess clearly: validation loss "
    f"{val_loss:.3f} vs {uniform:.3f}"
)
print("plots written to", args.out)
refnn.tutorials.report(
    model="GPT",
    dataset="template corpus (characters)",
    metric="val_loss",
    value=val_loss,
    export=path,
    kv_cache_speedup=speedup,
    greedy_sample=samples[(0.0, None)][0],
)
