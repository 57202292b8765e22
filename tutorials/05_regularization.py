"""
Title: Regularization: early stopping, L1/L2, dropout and random restart
Description: Overfit a wide network on a few hundred digits, read the
    model-complexity graph and stop at the Goldilocks point; compare the
    seed's L1 and L2 penalties (sparse vs uniformly small weights) and
    inverted dropout; escape bad initializations of XOR by random restart.
Seed section: 002 "Early Stopping", "Regularization" (L1/L2, elastic net,
    dropout y = f(Wx)·mask/p), "Dropout", "Local Minima and Random Restart";
    001 "Regularization Techniques".
"""

"""
## Setup

A deliberately over-sized network (256 hidden units) on only 200 training
digits overfits quickly; 600 other digits serve as validation data.
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
from sklearn.datasets import load_digits  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.export import (  # noqa: E402
    classifier_signatures,
    export_savedmodel,
)
from refnn.layers import Dropout  # noqa: E402
from refnn.training import L1, L2, EarlyStopping, random_restarts  # noqa: E402


def build(regularizer=None, dropout=0.0, hidden=256, optimizer=None):
    layers = [
        keras.Input((64,), name="features"),
        keras.layers.Dense(
            hidden, activation="relu", kernel_regularizer=regularizer
        ),
    ]
    if dropout:
        layers.append(Dropout(dropout, seed=0))
    layers.append(
        keras.layers.Dense(
            10, activation="softmax", kernel_regularizer=regularizer
        )
    )
    model = keras.Sequential(layers, name="digits_mlp")
    model.compile(
        optimizer=optimizer or keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


"""
## Early stopping and the model-complexity graph

"We do gradient descent until the testing error stops decreasing and starts
to increase. At that moment, we stop." `refnn.training.EarlyStopping`
records the validation curve and puts back the weights of the best epoch —
also when training hits `epochs` before patience runs out (Keras 2's
pitfall; Keras 3.15 restores in both cases too, and refnn's tests check it).
"""


def early_stopping(data, epochs):
    (x, y), (x_val, y_val) = data
    keras.utils.set_random_seed(0)
    model = build()
    stop = EarlyStopping(monitor="val_loss", patience=max(epochs // 3, 3))
    history = model.fit(
        x,
        y,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=32,
        verbose=0,
        callbacks=[stop, refnn.tutorials.progress(final=False)],
    )
    restored = model.evaluate(x_val, y_val, verbose=0, return_dict=True)
    print(
        f"stopped after {len(history.history['loss'])} epochs; best epoch "
        f"{stop.best_epoch + 1}: val_loss {min(stop.monitor_history):.4f}, "
        f"restored model val_loss {restored['loss']:.4f}"
    )
    return model, history, stop, restored


def plot_complexity(history, stop, path):
    train, val = history.history["loss"], history.history["val_loss"]
    epochs = np.arange(1, len(train) + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, train, label="training error")
    ax.plot(epochs, val, label="validation error")
    ax.axvline(stop.best_epoch + 1, color="k", ls="--", label="Goldilocks")
    ax.set_xlabel("epochs (model complexity)")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.set_title("Underfitting ← → overfitting")
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


"""
## L1 vs L2, and dropout

L1 adds `λΣ|w|` (gradient `λ·sign(w)`: a constant pull that drives small
weights to exactly zero — sparse vectors, feature selection); L2 adds
`λΣw²` (gradient `2λw`: weight decay that keeps all weights homogeneously
small). With plain SGD a step moves an L1-penalized weight by a constant
`ηλ` towards zero, so unneeded weights reach (and jitter within `ηλ` of)
zero, while L2's pull `2ηλw` fades as the weight shrinks. We count the
first-layer weights with `|w| < 10⁻³`. Dropout with keep probability `p`
trains on `f(Wx)·mask/p` and uses `f(Wx)` at inference.
"""


def compare_regularizers(data, epochs):
    (x, y), (x_val, y_val) = data
    runs = {
        "none": {},
        "L1 λ=1e-3": {"regularizer": L1(1e-3)},
        "L2 λ=1e-3": {"regularizer": L2(1e-3)},
        "dropout 0.5": {"dropout": 0.5},
    }
    table = {}
    for name, kwargs in runs.items():
        keras.utils.set_random_seed(0)
        # Plain SGD: Adam rescales every step to about its learning rate,
        # which blurs the difference between the two penalties' pulls.
        model = build(**kwargs, optimizer=keras.optimizers.SGD(0.2))
        model.fit(
            x,
            y,
            epochs=epochs,
            batch_size=32,
            verbose=0,
            callbacks=[refnn.tutorials.progress(final=False)],
        )
        kernel = model.layers[0].kernel.numpy()
        val = model.evaluate(x_val, y_val, verbose=0, return_dict=True)
        table[name] = {
            "model": model,
            "kernel": kernel,
            "near_zero": float(np.mean(np.abs(kernel) < 1e-3)),
            "val_accuracy": float(val["accuracy"]),
        }
    print(f"{'regularizer':<14}{'|w|<1e-3':>10}{'val acc':>9}")
    for name, row in table.items():
        print(f"{name:<14}{row['near_zero']:>10.1%}{row['val_accuracy']:>9.3f}")
    return table


def plot_weights(table, path):
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(-0.3, 0.3, 61)
    for name in ("none", "L1 λ=1e-3", "L2 λ=1e-3"):
        ax.hist(table[name]["kernel"].ravel(), bins=bins, alpha=0.5, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("first-layer weight")
    ax.set_title("L1 makes weights sparse, L2 makes them small")
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


"""
## Random restart

XOR with two sigmoid hidden units has poor local minima: some
initializations never separate the four points. Training from several
seeds and keeping the lowest validation loss (`w* = argmin L(w)`) is the
seed's basic random restart.
"""

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
XOR_Y = np.array([[0], [1], [1], [0]], "float32")


def build_xor():
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(
                2,
                activation="sigmoid",
                kernel_initializer=keras.initializers.RandomNormal(0, 1.5),
            ),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(3.0), loss="mse")
    return model


def restarts(n, steps):
    xs, ys = np.tile(XOR_X, (steps, 1)), np.tile(XOR_Y, (steps, 1))
    best, runs = random_restarts(
        build_xor,
        (xs, ys),
        (XOR_X, XOR_Y),
        n=n,
        seed=0,
        epochs=1,
        batch_size=4,
        shuffle=False,
        callbacks=[refnn.tutorials.progress(final=False)],
    )
    print(f"{'run':>4}{'seed':>6}{'val MSE':>10}")
    for r in runs:
        mark = "  <- kept" if r["best"] else ""
        print(f"{r['run']:>4}{r['seed']:>6}{r['val_loss']:>10.4f}{mark}")
    return best, runs


args = refnn.tutorials.parse_args("05_regularization")
keras.utils.set_random_seed(0)
x, y = load_digits(return_X_y=True)
x, y = (x / 16.0).astype("float32"), y.astype("int32")
data = ((x[:200], y[:200]), (x[200:800], y[200:800]))
epochs = 25 if args.quick else 60

print("== Early stopping ==")
model, history, stop, restored = early_stopping(data, epochs)
plot_complexity(history, stop, args.out / "model_complexity.png")

print("== L1 / L2 / dropout ==")
table = compare_regularizers(data, 10 if args.quick else 30)
plot_weights(table, args.out / "weights_l1_l2.png")

print("== Random restart ==")
xor_model, runs = restarts(n=3 if args.quick else 6, steps=250)

path = export_savedmodel(
    model,
    "05_regularization_digits",
    base_dir=args.savedmodels,
    signatures=classifier_signatures(model, 64),
)
print("exported to", path)

val = history.history["val_loss"]
best = min(stop.monitor_history)
assert stop.best_epoch < len(val) - 1 and val[-1] > best, (
    "validation error should rise after the Goldilocks point: "
    f"best epoch {stop.best_epoch}, curve {np.round(val, 3)}"
)
assert abs(restored["loss"] - best) < 1e-4, (
    f"restored weights give val_loss {restored['loss']}, best was {best}"
)
l1, l2 = table["L1 λ=1e-3"]["near_zero"], table["L2 λ=1e-3"]["near_zero"]
assert l1 > 2 * l2, f"L1 should be sparser than L2: {l1:.1%} vs {l2:.1%}"
kept = [r for r in runs if r["best"]][0]
assert kept["val_loss"] == min(r["val_loss"] for r in runs)
print("plots written to", args.out)
refnn.tutorials.report(
    model="Sequential(Dense 256 relu, Dense 10 softmax)",
    dataset="digits (200 train / 600 val)",
    metric="val_accuracy_early_stopped",
    value=restored["accuracy"],
    export=path,
    best_epoch=stop.best_epoch + 1,
    epochs_run=len(val),
    l1_near_zero=l1,
    l2_near_zero=l2,
    dropout_val_accuracy=table["dropout 0.5"]["val_accuracy"],
    xor_restart_val_losses=[r["val_loss"] for r in runs],
)
