"""
Title: Attention you can read: learning to reverse a sequence
Description: Train one multi-head attention layer to reverse a sequence of
    tokens, draw its attention heat map (the anti-diagonal appears), see the
    context window refuse a longer input, export it.
Seed section: 002 "2. Transformer Architecture" (Self-Attention, Positional
    Encoding), "Overview of Transformer Model Functionality" (Attention
    Mechanism), "Concept of Context Window".
"""

"""
## Attention in one formula

The seed describes attention as the step where "embedding vectors are
refined ... based on the context provided by other words". Every position
asks a question (query q), every position offers a label (key k) and a
content (value v); the answer is a weighted average of the contents, with
weights from how well the question matches each label:

    weights = softmax(Q Kᵀ / √d_k)        output = weights V

The weights are a table `(query position, key position)` that we can plot.
On a task whose solution we know, the table should show that solution.

**The task: reverse a sequence.** Input `3 7 1 9 4 2 8 5`, target
`5 8 2 4 9 1 7 3`. Output position t must copy the token at position
L − 1 − t: its attention row should put (almost) all its weight on one
key, and the heat map should be the anti-diagonal. Note that the task is
impossible without *positional* information: attention alone is
order-blind (permuting the keys permutes nothing in a weighted average),
which is why the model adds learned position embeddings.
"""

import re  # noqa: E402

import refnn_cli  # noqa: E402

# refnn and TensorFlow start here, TensorFlow's start-up log lines hidden
# (`--verbose` or REFNN_VERBOSE=1 shows them).
refnn_cli.import_refnn()

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.export import export_savedmodel  # noqa: E402
from refnn.layers import (  # noqa: E402
    MultiHeadAttention,
    TokenAndPositionEmbedding,
)

LENGTH = 8  # the context window of this tiny model
VOCAB = 12  # token ids 1..11 (0 unused)

"""
## Data

Random token sequences; the target is the same sequence reversed.
"""


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, size=(n, LENGTH)).astype("int32")
    return x, x[:, ::-1].copy()


"""
## The model: embedding → one attention layer → softmax

`TokenAndPositionEmbedding` gives x_t = E_tok[token_t] + E_pos[t]; one
`refnn.layers.MultiHeadAttention` (self-attention, 2 heads) mixes the
positions; a `Dense` layer reads the next token's distribution off each
output vector. There is no residual path, so every output position *must*
get its token through attention.
"""


@keras.saving.register_keras_serializable(package="tutorials")
class Reverser(keras.Model):
    def __init__(self, dim=32, num_heads=2, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.num_heads = num_heads
        self.embed = TokenAndPositionEmbedding(VOCAB, LENGTH, dim)
        self.attention = MultiHeadAttention(num_heads, dim // num_heads)
        self.readout = keras.layers.Dense(VOCAB, activation="softmax")

    def call(self, token_ids, return_attention_scores=False):
        x = self.embed(token_ids)  # (B, T, dim)
        x, scores = self.attention(x, x, return_attention_scores=True)
        probs = self.readout(x)  # (B, T, VOCAB)
        return (probs, scores) if return_attention_scores else probs

    def serve(self, token_ids):
        probs, scores = self(token_ids, return_attention_scores=True)
        return {
            "probabilities": probs,
            "tokens": keras.ops.argmax(probs, axis=-1),
            "attention": keras.ops.mean(scores, axis=1),  # (B, T, T)
        }

    def serving_signatures(self):
        specs = {"token_ids": ((None, LENGTH), "int32")}
        return {"serving_default": (self.serve, specs)}

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "num_heads": self.num_heads,
        }


"""
## Reading the attention table

`mean over heads` of the weights, averaged over a batch: entry (t, s) is how
much output position t looks at input position s. We measure how much of
each row sits on the anti-diagonal s = L − 1 − t.
"""


def anti_diagonal_mass(attention):
    attention = np.asarray(attention)  # (B, T, T) or (T, T)
    rows = np.arange(LENGTH)
    return float(attention[..., rows, LENGTH - 1 - rows].mean())


def plot_attention(attention, tokens, path):
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, (title, table, labels) in zip(
        axes,
        [
            ("one example", attention[0], tokens[0]),
            ("mean over the test set", attention.mean(0), range(LENGTH)),
        ],
    ):
        im = ax.imshow(table, cmap="viridis", vmin=0, vmax=1)
        ax.set_title(f"attention weights ({title})")
        ax.set_xlabel("key position (input token)")
        ax.set_ylabel("query position (output)")
        ax.set_xticks(range(LENGTH), [str(t) for t in labels])
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


args = refnn.tutorials.parse_args("12_attention")
keras.utils.set_random_seed(0)
n_train, epochs = (2000, 4) if args.quick else (4000, 5)
x_train, y_train = make_data(n_train, seed=0)
x_test, y_test = make_data(500, seed=1)

"""
## Training

Sparse categorical cross-entropy on every output position.
"""
model = Reverser()
model.compile(
    optimizer=keras.optimizers.Adam(1e-2),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.fit(
    x_train,
    y_train,
    batch_size=64,
    epochs=epochs,
    verbose=0,
    callbacks=[refnn.tutorials.progress()],
)
probs, scores = model(x_test, return_attention_scores=True)
accuracy = float(np.mean(np.argmax(probs, -1) == y_test))
attention = np.asarray(keras.ops.mean(scores, axis=1))  # (B, T, T)
mass = anti_diagonal_mass(attention)
print(f"test token accuracy {accuracy:.3f}")
print(f"attention mass on the anti-diagonal {mass:.3f}")
plot_attention(attention, x_test, args.out / "attention_heatmap.png")

"""
## The lesson

The network solved the task *by attending to the right position*: the
heat map is the anti-diagonal. Attention weights are interpretable when
the task forces information to flow through them.
"""
min_acc, min_mass = (0.8, 0.6) if args.quick else (0.95, 0.8)
assert accuracy >= min_acc, (
    f"test accuracy {accuracy:.3f} < {min_acc}: attention did not learn "
    "to reverse"
)
assert mass >= min_mass, (
    f"only {mass:.3f} of the attention is on the anti-diagonal "
    f"(want ≥ {min_mass}): the model is not reading the mirrored position"
)

"""
## The context window

The learned position table has `LENGTH` rows: that is the model's
context window, "the maximum number of tokens a model can handle at
once". A longer input has no position vectors and is refused.
"""
try:
    model(np.ones((1, LENGTH + 1), "int32"))
    raise AssertionError("a sequence longer than the window was accepted")
except ValueError as err:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))  # drop colours
    lines = [ln for ln in text.splitlines() if "window" in ln]
    print("refused:", lines[0].strip() if lines else text)

"""
## Export

The SavedModel takes `token_ids` `(batch, 8)` and returns the
probabilities, the predicted tokens and the head-averaged attention.
"""
path = export_savedmodel(
    model, "12_attention_reverser", base_dir=args.savedmodels
)
print("exported to", path)
print("plots written to", args.out)
refnn.tutorials.report(
    model="Reverser (1 MultiHeadAttention layer)",
    dataset="reverse 8 random tokens",
    metric="test_token_accuracy",
    value=round(accuracy, 4),
    export=str(path),
    anti_diagonal_attention=round(mass, 4),
)
