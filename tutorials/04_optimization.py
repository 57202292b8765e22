"""
Title: Optimization: gradient-descent modes, learning-rate decay, momentum
Description: Train one model on the same data by batch, stochastic and
    mini-batch gradient descent and compare loss per epoch and per second;
    plot the learning-rate schedules of refnn.training; show that momentum
    is the seed's weighted sum of past steps and rolls over a hump that
    traps plain gradient descent.
Seed section: 002 "Batch Gradient Descent", "Stochastic Gradient Descent",
    "Learning Rate Decay", "Momentum", "Local Minima and Random Restart";
    000 "Gradient Descent Fundamentals", "Minibatch Gradient Descent".
"""

"""
## Setup

Everything runs offline on scikit-learn's bundled 8×8 digits.
"""

import refnn_cli  # noqa: E402

# refnn and TensorFlow start here, TensorFlow's start-up log lines hidden
# (`--verbose` or REFNN_VERBOSE=1 shows them).
refnn_cli.import_refnn()

import time  # noqa: E402

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
from refnn.training import (  # noqa: E402
    ExponentialDecay,
    InverseSqrtDecay,
    LearningRateLogger,
    StepDecay,
    WarmupCosineDecay,
    gradient_descent_dataset,
    momentum_updates,
    updates_per_epoch,
)

"""
## Batch, stochastic and mini-batch gradient descent

Batch gradient descent runs *all* the data through the network and takes
one step per epoch. Stochastic gradient descent takes one step per record;
mini-batch gradient descent one step per small batch ("it's much better to
take a bunch of slightly inaccurate steps than to take only one good one").
`gradient_descent_dataset` builds the matching `tf.data` pipeline, so the
model, the loss and the optimizer stay identical — only the batching
changes.
"""


def build_classifier(learning_rate=0.1):
    model = keras.Sequential(
        [
            keras.Input((64,), name="features"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="digits_classifier",
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class EpochClock(keras.callbacks.Callback):
    """Cumulative wall time at the end of every epoch."""

    def on_train_begin(self, logs=None):
        self.start, self.times = time.perf_counter(), []

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def compare_modes(x, y, epochs):
    results = {}
    for mode in ("full", "stochastic", "minibatch"):
        keras.utils.set_random_seed(0)
        model = build_classifier()
        ds = gradient_descent_dataset(x, y, mode, batch_size=32, seed=0)
        clock = EpochClock()
        history = model.fit(
            ds,
            epochs=epochs,
            verbose=0,
            callbacks=[clock, refnn.tutorials.progress(final=False)],
            shuffle=False,
        )
        loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
        steps = updates_per_epoch(len(x), mode, 32)
        results[mode] = {
            "model": model,
            "loss": history.history["loss"],
            "time": clock.times,
            "final_loss": float(loss),
        }
        print(
            f"{mode:>10}: {steps:4d} updates/epoch, final loss {loss:.4f}, "
            f"{clock.times[-1]:.2f} s"
        )
    return results


def plot_modes(results, path):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for mode, r in results.items():
        epochs = np.arange(1, len(r["loss"]) + 1)
        axes[0].plot(epochs, r["loss"], marker="o", label=mode)
        axes[1].plot(r["time"], r["loss"], marker="o", label=mode)
    axes[0].set_xlabel("epoch")
    axes[1].set_xlabel("wall time (s)")
    for ax in axes:
        ax.set_ylabel("training loss")
        ax.set_yscale("log")
        ax.legend()
    fig.suptitle("Same model, same data: three gradient-descent modes")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


"""
## Learning-rate decay

"The best learning rates are those that decrease as the algorithm is getting
closer to a solution." refnn ships four `LearningRateSchedule`s; Keras calls
them with the optimizer's step counter, which starts at 0, so the seed's
`η_t = η₀/√t` is evaluated at `t = step + 1`.
"""


def plot_schedules(path, steps=200):
    schedules = {
        "η₀/√t (InverseSqrtDecay)": InverseSqrtDecay(0.1),
        "step decay ×0.5 every 50": StepDecay(0.1, drop_every=50),
        "exponential 0.5^(step/100)": ExponentialDecay(0.1, 100, 0.5),
        "warm-up 20 + cosine": WarmupCosineDecay(0.1, 20, 180, alpha=0.05),
    }
    grid = np.arange(steps)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for label, schedule in schedules.items():
        ax.plot(grid, [float(schedule(s)) for s in grid], label=label)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def train_with_decay(x, y, epochs):
    keras.utils.set_random_seed(0)
    model = build_classifier(learning_rate=InverseSqrtDecay(0.2))
    ds = gradient_descent_dataset(x, y, "minibatch", batch_size=32, seed=1)
    history = model.fit(
        ds,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        callbacks=[LearningRateLogger(), refnn.tutorials.progress()],
    )
    steps = updates_per_epoch(len(x), "minibatch", 32)
    expected = [0.2 / np.sqrt(steps * (e + 1) + 1) for e in range(epochs)]
    logged = history.history["learning_rate"]
    print("logged learning rates:", np.round(logged, 5))
    return model, bool(np.allclose(logged, expected, rtol=1e-5))


"""
## Momentum

The seed writes momentum as a weighted sum of the previous steps,

    step(n) + β step(n−1) + β² step(n−2) + …,

which is what Keras's `SGD(momentum=β)` computes recursively
(`v ← βv − η∇L`, `w ← w + v`). We check this on random gradients, then
minimise `f(x) = x⁴ − 3x² + x` from `x = 2`: its local minimum near 1.13
traps plain gradient descent, while the accumulated velocity carries the
momentum run over the hump to the global minimum near −1.30.
"""


def f(x):
    return x**4 - 3 * x**2 + x


def df(x):
    return 4 * x**3 - 6 * x + 1


def check_weighted_sum():
    grads = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    w = keras.Variable(np.zeros(3, "float32"))
    opt = keras.optimizers.SGD(0.1, momentum=0.9)
    updates = []
    for g in grads:
        before = w.numpy().copy()
        opt.apply([keras.ops.convert_to_tensor(g)], [w])
        updates.append(w.numpy() - before)
    diff = np.abs(momentum_updates(grads, 0.1, 0.9) - np.array(updates)).max()
    print(f"max |weighted sum − keras SGD(momentum=0.9)| = {diff:.2e}")
    return float(diff)


def descend(momentum, steps=300, x0=2.0, eta=0.01):
    x = keras.Variable(x0)
    opt = keras.optimizers.SGD(eta, momentum=momentum)
    path = [x0]
    for _ in range(steps):
        opt.apply([keras.ops.convert_to_tensor(df(float(x.numpy())))], [x])
        path.append(float(x.numpy()))
    return np.array(path)


def plot_momentum(paths, path):
    grid = np.linspace(-1.9, 2.1, 400)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(grid, f(grid), color="gray")
    for label, xs in paths.items():
        axes[0].plot(xs, f(xs), marker=".", ms=3, label=label)
        axes[1].plot(xs, label=label)
    axes[0].set_xlabel("x")
    axes[0].set_ylabel("f(x) = x⁴ − 3x² + x")
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("x")
    for ax in axes:
        ax.legend()
    fig.suptitle("Momentum rolls over the hump; plain GD stops at x ≈ 1.13")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def export(model, base_dir):
    return export_savedmodel(
        model,
        "04_optimization_digits",
        base_dir=base_dir,
        signatures=classifier_signatures(model, 64),
    )


args = refnn.tutorials.parse_args("04_optimization")
keras.utils.set_random_seed(0)
x, y = load_digits(return_X_y=True)
n = 200 if args.quick else 500
x, y = (x[:n] / 16.0).astype("float32"), y[:n].astype("int32")
epochs = 3 if args.quick else 8

print("== Gradient-descent modes ==")
results = compare_modes(x, y, epochs)
plot_modes(results, args.out / "gd_modes.png")

print("== Learning-rate decay ==")
plot_schedules(args.out / "lr_schedules.png")
decayed, logged_ok = train_with_decay(x, y, epochs=2 if args.quick else 4)

print("== Momentum ==")
diff = check_weighted_sum()
paths = {}
for label, beta in (("plain GD", 0.0), ("momentum β=0.9", 0.9)):
    paths[label] = descend(beta)  # 300 eager steps: a few seconds
    print(f"  {label}: {len(paths[label]) - 1} steps done", flush=True)
plot_momentum(paths, args.out / "momentum.png")
plain_end, momentum_end = paths["plain GD"][-1], paths["momentum β=0.9"][-1]
print(f"plain GD ends at x={plain_end:.3f}, momentum at x={momentum_end:.3f}")

best = results["minibatch"]["model"]
path = export(best, args.savedmodels)
print("exported to", path)

full, mini = (
    results["full"]["final_loss"],
    results["minibatch"]["final_loss"],
)
assert mini < full, (
    f"after {epochs} epochs mini-batch GD (loss {mini:.4f}) should beat "
    f"one full-batch step per epoch (loss {full:.4f})"
)
assert logged_ok, "LearningRateLogger did not log η₀/√(step+1)"
assert diff < 1e-6, f"weighted sum differs from keras SGD by {diff}"
assert abs(plain_end - 1.1309) < 1e-2, f"plain GD ended at {plain_end}"
assert abs(momentum_end + 1.3008) < 1e-2, (
    f"momentum should reach the global minimum −1.30, got {momentum_end}"
)
accuracy = best.evaluate(x, y, verbose=0, return_dict=True)["accuracy"]
print("plots written to", args.out)
refnn.tutorials.report(
    model="Sequential(Dense 32 relu, Dense 10 softmax)",
    dataset="digits",
    metric="train_loss_minibatch",
    value=mini,
    export=path,
    train_loss_full_batch=full,
    train_loss_stochastic=results["stochastic"]["final_loss"],
    minibatch_train_accuracy=float(accuracy),
    momentum_end=float(momentum_end),
    plain_gd_end=float(plain_end),
)
