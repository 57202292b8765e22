"""
Title: Vanishing and exploding gradients: sigmoid vs tanh vs ReLU, Glorot vs He
Description: Measure the gradient reaching every layer of a deep network
    with GradientNormLogger, reproduce the seed's claim that the sigmoid's
    maximum slope 0.25 starves the early layers, compare Xavier/Glorot and He
    initialization, and tame exploding gradients by clipping.
Seed section: 002 "Backpropagation" (the sigmoid's maximum derivative is
    0.25), "The Vanishing Gradient Problem", "Hyperbolic Tangent",
    "Rectified Linear Unit (ReLU)"; 001 "Vanishing and Exploding Gradients",
    "Regularization Techniques" (Weight Initialization); 000
    "Gradient-Based Optimization".
"""

"""
## Setup
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
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.export import (  # noqa: E402
    classifier_signatures,
    export_savedmodel,
)
from refnn.training import (  # noqa: E402
    GlorotNormal,
    GradientNormLogger,
    HeNormal,
    clip_by_global_norm,
    global_norm,
)

DEPTH, WIDTH = 8, 32

"""
## The slopes

"The maximum derivative of the sigmoid is 0.25, so the errors in the output
layer get reduced by at least 75%, and errors in the hidden layer are
scaled down by at least 93.75%." Backpropagation multiplies the error by
f′(z) once per layer, so with sigmoid units the error reaching layer 1 of
an 8-layer network carries a factor of at most 0.25⁸ ≈ 1.5·10⁻⁵. tanh′ and
ReLU′ reach 1.
"""


def max_slopes():
    z = tf.constant(np.linspace(-6, 6, 12001, dtype="float32"))
    slopes = {}
    for name in ("sigmoid", "tanh", "relu"):
        fn = keras.activations.get(name)
        with tf.GradientTape() as tape:
            tape.watch(z)
            out = fn(z)
        slopes[name] = float(tf.reduce_max(tape.gradient(out, z)))
    print("max f'(z):", {k: round(v, 4) for k, v in slopes.items()})
    return slopes


def build(activation, initializer="glorot_uniform"):
    layers = [keras.Input((64,), name="features")]
    for i in range(DEPTH):
        layers.append(
            keras.layers.Dense(
                WIDTH,
                activation=activation,
                kernel_initializer=initializer,
                name=f"hidden_{i + 1}",
            )
        )
    layers.append(keras.layers.Dense(10, activation="softmax", name="output"))
    model = keras.Sequential(layers, name=f"deep_{activation}")
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


"""
## Gradient per layer while training

`GradientNormLogger(x_probe, y_probe)` records ‖∂E/∂W‖ of every kernel at
the end of every epoch (with `tf.GradientTape` here; refnn's explicit
models use their δ-rule `compute_gradients`).
"""


def train_three(x, y, epochs):
    results = {}
    for activation in ("sigmoid", "tanh", "relu"):
        keras.utils.set_random_seed(0)
        model = build(activation)
        probe = GradientNormLogger(x[:256], y[:256])
        history = model.fit(
            x,
            y,
            epochs=epochs,
            batch_size=32,
            verbose=0,
            callbacks=[probe, refnn.tutorials.progress(final=False)],
        )
        initial = list(probe.initial.values())
        results[activation] = {
            "model": model,
            "initial": np.array(initial),
            "loss": history.history["loss"],
        }
        print(
            f"{activation:>8}: ‖∂E/∂W₁‖/‖∂E/∂W_out‖ = "
            f"{initial[0] / initial[-1]:.2e}, final loss "
            f"{history.history['loss'][-1]:.3f}"
        )
    return results


def plot_layers(results, path):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for activation, r in results.items():
        layers = np.arange(1, len(r["initial"]) + 1)
        axes[0].semilogy(layers, r["initial"], marker="o", label=activation)
        axes[1].plot(r["loss"], marker=".", label=activation)
    axes[0].set_xlabel(f"layer (1 = next to the input, {DEPTH + 1} = output)")
    axes[0].set_ylabel("‖∂E/∂W‖ at initialization")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("training loss")
    for ax in axes:
        ax.legend()
    fig.suptitle(f"{DEPTH} hidden layers of {WIDTH} units, Glorot init")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


"""
## Initialization: Glorot for tanh/sigmoid, He for ReLU

Glorot draws weights with Var(w) = 2/(fan_in + fan_out), He with
Var(w) = 2/fan_in (ReLU zeroes half its inputs, so it needs twice the
variance to keep the signal's scale). We push a batch through untrained
networks and look at the spread of activations and at the gradients, layer
by layer.
"""


def activation_profile(activation, initializer, x, y):
    keras.utils.set_random_seed(0)
    model = build(activation, initializer)
    outputs = [model.get_layer(f"hidden_{i + 1}").output for i in range(DEPTH)]
    hidden = keras.Model(model.inputs[0], outputs)
    stds = [float(np.std(a)) for a in hidden(x)]
    probe = GradientNormLogger(x, y)
    probe.set_model(model)
    grads = list(probe.gradient_norms().values())[:DEPTH]
    return np.array(stds), np.array(grads)


def compare_inits(x, y, path):
    combos = {
        "sigmoid + Glorot": ("sigmoid", GlorotNormal(seed=1)),
        "relu + Glorot": ("relu", GlorotNormal(seed=1)),
        "relu + He": ("relu", HeNormal(seed=1)),
        "relu + N(0, 0.01²)": (
            "relu",
            keras.initializers.RandomNormal(0, 0.01),
        ),
    }
    profiles = {
        k: activation_profile(a, i, x, y) for k, (a, i) in combos.items()
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    layers = np.arange(1, DEPTH + 1)
    for name, (stds, grads) in profiles.items():
        axes[0].semilogy(layers, stds, marker="o", label=name)
        axes[1].semilogy(layers, grads, marker="o", label=name)
    axes[0].set_ylabel("std of activations")
    axes[1].set_ylabel("‖∂E/∂W‖")
    for ax in axes:
        ax.set_xlabel("layer")
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    for name, (stds, grads) in profiles.items():
        print(
            f"{name:<20} activation std layer 1 → {DEPTH}: "
            f"{stds[0]:.3f} → {stds[-1]:.2e}; grad layer 1 {grads[0]:.2e}"
        )
    return profiles


"""
## Exploding gradients and clipping

With too large weights (here N(0, 1) in a deep ReLU network) the error grows
layer after layer on its way back. Clipping caps the step:
`clip_by_global_norm(grads, c)` rescales all gradients by the same factor
`c / max(‖g‖, c)`, exactly what `keras.optimizers.SGD(global_clipnorm=c)`
applies.
"""


def exploding(x, y):
    keras.utils.set_random_seed(0)
    model = build("relu", keras.initializers.RandomNormal(0, 1.0))
    probe = GradientNormLogger(x, y, kernels_only=False)
    probe.set_model(model)
    grads = list(probe.gradients().values())
    before = float(global_norm(grads))
    after = float(global_norm(clip_by_global_norm(grads, 1.0)))
    print(f"global gradient norm {before:.3e} → clipped {after:.3f}")
    return before, after


args = refnn.tutorials.parse_args("06_vanishing_gradients")
keras.utils.set_random_seed(0)
x, y = load_digits(return_X_y=True)
n = 400 if args.quick else 1200
x, y = (x[:n] / 16.0).astype("float32"), y[:n].astype("int32")

print("== Slopes ==")
slopes = max_slopes()

print("== Gradient per layer ==")
results = train_three(x, y, epochs=3 if args.quick else 12)
plot_layers(results, args.out / "gradient_per_layer.png")

print("== Initialization ==")
profiles = compare_inits(x[:256], y[:256], args.out / "initialization.png")

print("== Exploding gradients ==")
before, after = exploding(x[:256], y[:256])

relu = results["relu"]["model"]
path = export_savedmodel(
    relu,
    "06_vanishing_gradients_relu",
    base_dir=args.savedmodels,
    signatures=classifier_signatures(relu, 64),
)
print("exported to", path)

ratio = {k: r["initial"][0] / r["initial"][-1] for k, r in results.items()}
assert abs(slopes["sigmoid"] - 0.25) < 1e-4, slopes
assert ratio["sigmoid"] < 0.01 * ratio["relu"], (
    f"sigmoid's first layer should get a far smaller gradient: {ratio}"
)
assert ratio["sigmoid"] < ratio["tanh"], ratio
final = {k: r["loss"][-1] for k, r in results.items()}
assert final["tanh"] < final["sigmoid"] - 0.5, (
    f"tanh should train much faster than sigmoid: {final}"
)
if not args.quick:  # Glorot-initialized ReLU needs a few more epochs
    assert final["relu"] < final["sigmoid"] - 0.5, (
        f"ReLU should train faster than sigmoid: {final}"
    )
he, glorot = profiles["relu + He"][0], profiles["relu + Glorot"][0]
assert he[-1] / he[0] > 4 * glorot[-1] / glorot[0], (
    "He should keep ReLU activations' scale better than Glorot"
)
assert before > 1e3 and abs(after - 1.0) < 1e-3, (before, after)
print("plots written to", args.out)
refnn.tutorials.report(
    model=f"Sequential({DEPTH}×Dense {WIDTH})",
    dataset="digits",
    metric="grad_ratio_first_over_last_sigmoid",
    value=ratio["sigmoid"],
    export=path,
    grad_ratio_tanh=ratio["tanh"],
    grad_ratio_relu=ratio["relu"],
    final_loss=final,
    exploding_norm=before,
)
