"""
Title: Transfer learning: the seed's four cases
Description: Pre-train a network on half of the digits, then adapt it to
    the other half, by other writers ("similar" data), and
    mirrored with inverted ink ("different" data), with a small and a large
    target set: freeze and slice for the small sets, fine-tune everything
    for the large ones, and tabulate the accuracy of each case against
    training from scratch.
Seed section: 002 "Transfer Learning" (the four main cases).
"""

"""
## Setup

The seed's demonstration network is a CNN; the recipe is the same for our
small fully connected network `features_1 → bn_1 → features_2 → head`:
the first layer learns low-level features (strokes), the second higher-level
ones, the head maps them to classes.
"""

import refnn_cli  # noqa: E402

# refnn and TensorFlow start here, TensorFlow's start-up log lines hidden
# (`--verbose` or REFNN_VERBOSE=1 shows them).
refnn_cli.import_refnn()

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.export import (  # noqa: E402
    classifier_signatures,
    export_savedmodel,
)
from refnn.training import FreezeSchedule, freeze  # noqa: E402

LAYERS = ("features_1", "bn_1", "features_2")


def pretrain(x, y, epochs):
    model = keras.Sequential(
        [
            keras.Input((64,), name="features"),
            keras.layers.Dense(64, activation="relu", name="features_1"),
            keras.layers.BatchNormalization(name="bn_1"),
            keras.layers.Dense(32, activation="relu", name="features_2"),
            keras.layers.Dense(10, activation="softmax", name="head"),
        ],
        name="source",
    )
    compile_(model, 0.01)
    model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=32,
        verbose=0,
        callbacks=[refnn.tutorials.progress()],
    )
    return model


def compile_(model, learning_rate):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def transfer(source, keep_up_to, pretrained=True):
    """Copies of the source's layers up to `keep_up_to` plus a new head.

    Copies (not shared layers), so every case starts from the same
    pre-trained weights. `pretrained=False` re-initializes them: training
    from scratch.
    """
    layers = [keras.Input((64,), name="features")]
    kept = []
    for layer in source.layers:
        kept.append((layer, layer.__class__.from_config(layer.get_config())))
        if layer.name == keep_up_to:
            break
    layers += [new for _, new in kept]
    layers.append(keras.layers.Dense(10, activation="softmax", name="new_head"))
    model = keras.Sequential(layers, name=f"target_{keep_up_to}")
    if pretrained:
        for old, new in kept:
            new.set_weights(old.get_weights())
    return model


"""
## The four cases

1. **small, similar** — slice off the head, add a new randomly initialized
   one, freeze all pre-trained weights, train the head.
2. **small, different** — keep only the early (low-level) layers, frozen,
   and a new head.
3. **large, similar** — replace the head, start the rest from the
   pre-trained weights and re-train everything. `FreezeSchedule` first
   trains the new head alone for a couple of epochs (so its random weights
   don't wreck the features), then unfreezes and lowers the learning rate
   for fine-tuning (0.01 → 0.002).
4. **large, different** — the same as case 3 (or from scratch).

Frozen layers — including the BatchNormalization moving mean and variance —
must not change: the tutorial checks they are bit-identical after training.
Each case is compared with the same network trained from scratch on the
same target data. On these easy 8×8 images a large target set makes the
pre-training matter little (cases 3 and 4 come close to from-scratch),
while with 3 examples per class the frozen pre-trained features clearly win
(case 1).
"""


def run_case(source, data, keep_up_to, frozen, epochs, scratch=False):
    (x, y), (x_test, y_test) = data
    keras.utils.set_random_seed(1)
    model = transfer(source, keep_up_to, pretrained=not scratch)
    callbacks = []
    if frozen:
        freeze(model, up_to=keep_up_to)
    elif not scratch:
        callbacks.append(
            FreezeSchedule(keep_up_to, epochs=2, fine_tune_learning_rate=2e-3)
        )
    compile_(model, 0.01)
    before = [w.copy() for w in model.get_weights()]
    batch_size = 8 if len(x) < 100 else 32  # a few steps per epoch
    every = max(1, epochs // 5)  # a progress line every second or so

    def show_progress(epoch, logs):
        if (epoch + 1) % every == 0:
            print(f"  epoch {epoch + 1}/{epochs}: loss {logs['loss']:.3f}")

    progress = keras.callbacks.LambdaCallback(on_epoch_end=show_progress)
    model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
        callbacks=callbacks + [progress],
    )
    after = model.get_weights()
    n_frozen = sum(len(layer.weights) for layer in model.layers[:-1])
    unchanged = all(
        np.array_equal(a, b) for a, b in zip(before[:n_frozen], after)
    )
    accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    return model, float(accuracy["accuracy"]), unchanged


def similar(x):
    """The same kind of images: digits by other writers, as they are."""
    return x


def different(x):
    """Mirrored digits with inverted ink: other low-level statistics."""
    return (1.0 - x.reshape(-1, 8, 8)[:, :, ::-1]).reshape(-1, 64)


def plot_table(rows, path):
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    names = [r["case"] for r in rows]
    scratch = ["from scratch" in name for name in names]
    colors = ["tab:gray" if s else "tab:blue" for s in scratch]
    ax.barh(names, [r["accuracy"] for r in rows], color=colors)
    for i, r in enumerate(rows):
        ax.text(r["accuracy"] + 0.01, i, f"{r['accuracy']:.2f}", va="center")
    ax.set_xlim(0, 1.15)
    ax.invert_yaxis()
    ax.set_xlabel("test accuracy on 300 target digits (fraction correct)")
    ax.set_title("Transfer learning: the seed's four cases vs from scratch")
    ax.legend(
        handles=[
            Patch(color="tab:blue", label="pre-trained (transfer)"),
            Patch(color="tab:gray", label="same network from scratch"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncol=2,
        fontsize=8,
    )
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


args = refnn.tutorials.parse_args("07_transfer_learning")
keras.utils.set_random_seed(0)
x, y = load_digits(return_X_y=True)
x, y = (x / 16.0).astype("float32"), y.astype("int32")
xs, ys = x[:900], y[:900]  # source: the first half
xt, yt = x[900:], y[900:]  # target pool: the other half
test = np.arange(300)
large = np.arange(300, len(xt))
# 3 examples of every class: a small, balanced target set.
small = np.concatenate([large[yt[large] == c][:3] for c in range(10)])
quick = args.quick
epochs = {"source": 5 if quick else 20, "small": 20 if quick else 40}
epochs["large"] = 5 if quick else 15

print("== Pre-training on the first 900 digits ==")
source = pretrain(xs, ys, epochs["source"])
acc = source.evaluate(xs, ys, verbose=0, return_dict=True)["accuracy"]
print(f"source accuracy {acc:.3f}")

close = (similar(xt), yt)
other = (different(xt), yt)


def split(data, part):
    return (data[0][part], data[1][part]), (data[0][test], data[1][test])


cases = [
    (
        "1 small similar: freeze all, new head",
        close,
        "small",
        "features_2",
        True,
        False,
    ),
    (
        "  small similar: from scratch",
        close,
        "small",
        "features_2",
        False,
        True,
    ),
    (
        "2 small different: freeze layer 1, new head",
        other,
        "small",
        "bn_1",
        True,
        False,
    ),
    (
        "  small different: from scratch",
        other,
        "small",
        "features_2",
        False,
        True,
    ),
    (
        "3 large similar: fine-tune all",
        close,
        "large",
        "features_2",
        False,
        False,
    ),
    (
        "  large similar: from scratch",
        close,
        "large",
        "features_2",
        False,
        True,
    ),
    (
        "4 large different: fine-tune all",
        other,
        "large",
        "features_2",
        False,
        False,
    ),
    (
        "  large different: from scratch",
        other,
        "large",
        "features_2",
        False,
        True,
    ),
]
rows, models = [], {}
for name, data, size, keep, frozen, scratch in cases:
    part = small if size == "small" else large
    print(f"training case {name.strip()!r} ({len(part)} examples)", flush=True)
    model, accuracy, unchanged = run_case(
        source, split(data, part), keep, frozen, epochs[size], scratch
    )
    n = len(part)
    rows.append(
        {
            "case": name.strip(),
            "n": n,
            "accuracy": accuracy,
            "frozen_intact": unchanged,
        }
    )
    models[name.strip()] = model
print(f"{'case':<46}{'size':>6}{'accuracy':>10}{'frozen intact':>15}")
for row, case in zip(rows, cases):
    flag = str(row["frozen_intact"]) if case[4] else "-"
    print(f"{case[0]:<46}{row['n']:>6}{row['accuracy']:>10.3f}{flag:>15}")
plot_table(rows, args.out / "four_cases.png")

final = models["3 large similar: fine-tune all"]
path = export_savedmodel(
    final,
    "07_transfer_learning_digits",
    base_dir=args.savedmodels,
    signatures=classifier_signatures(final, 64),
)
print("exported to", path)

by_case = {r["case"]: r for r in rows}
frozen_rows = [r for r, c in zip(rows, cases) if c[4]]
assert all(r["frozen_intact"] for r in frozen_rows), (
    "frozen weights (kernels or BatchNormalization statistics) changed"
)
transfer_acc = by_case["1 small similar: freeze all, new head"]["accuracy"]
scratch_acc = by_case["small similar: from scratch"]["accuracy"]
assert transfer_acc > scratch_acc + 0.05, (
    f"with {by_case['small similar: from scratch']['n']} examples, "
    f"pre-trained features should beat training from scratch: "
    f"{transfer_acc:.3f} vs {scratch_acc:.3f}"
)
large_acc = by_case["3 large similar: fine-tune all"]["accuracy"]
threshold = 0.8 if quick else 0.9
assert large_acc > threshold, f"fine-tuning on the large set: {large_acc:.3f}"
print("plots written to", args.out)
refnn.tutorials.report(
    model="Sequential(Dense 64, BN, Dense 32, head)",
    dataset="digits → other writers / mirrored-inverted digits",
    metric="accuracy_case1_small_similar",
    value=transfer_acc,
    export=path,
    table=rows,
)
