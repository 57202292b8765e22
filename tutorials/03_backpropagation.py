"""
Title: Backpropagation by hand: the δ rules in a Keras model
Description: Re-run the seed's worked 2-1-1 example number by number, check
    the hand-derived gradients against tf.GradientTape, then train the same
    explicit-backprop MLP on XOR and on handwritten digits and export it.
Seed section: 002 "Backpropagation" (worked example), "Calculation of the
    derivative of the sigmoid function", "Mean Square Error",
    "Regularization"; 000 "Introduction to Backpropagation"; 001
    "Backpropagation Algorithm".
"""

"""
## The δ rules

A multilayer network computes, layer after layer,

    z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾,   a⁽ˡ⁾ = f(z⁽ˡ⁾),   a⁽⁰⁾ = x,   ŷ = a⁽ᴸ⁾.

Backpropagation walks back with an error term δ per layer:

    δᵒ = (y − ŷ) f′(zᴸ)                 output layer, squared error
    δʰ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ) ⊙ f′(z⁽ˡ⁾)      hidden layers
    ΔW⁽ˡ⁾ = η a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾                weight step (= −η ∂E/∂W)

and with the sigmoid f′ = f(1 − f), so every δ reuses the forward values.
`refnn.models.MLP` implements exactly this in `compute_gradients` (no
`GradientTape`), and its `train_step` hands those gradients to any Keras
optimizer.
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
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.export import export_savedmodel  # noqa: E402
from refnn.models import MLP  # noqa: E402

"""
## The seed's worked example

Two inputs x = (0.1, 0.3), one sigmoid hidden unit with weights
w = (0.4, −0.2), one sigmoid output with weight W = 0.1, target y = 1,
learning rate η = 0.5, squared error E = ½(y − ŷ)². In refnn that is
`MLP([1, 1], activation="sigmoid", use_bias=False, loss="sse")` with the
weights set by hand. `backprop_trace` returns every named quantity.
"""

SEED_NUMBERS = {
    "h": -0.02,
    "a": 0.495,
    "y_hat": 0.512,
    "delta_o": 0.122,
    "delta_h": 0.003,
    "Delta_W": 0.0302,
    "Delta_w": (0.00015, 0.00045),
}
FORMULAS = {
    "h": "h = Σᵢ wᵢxᵢ",
    "a": "a = σ(h)",
    "y_hat": "ŷ = σ(W·a)",
    "delta_o": "δᵒ = (y − ŷ)ŷ(1 − ŷ)",
    "delta_h": "δʰ = W δᵒ a(1 − a)",
    "Delta_W": "ΔW = η δᵒ a",
    "Delta_w": "Δwᵢ = η δʰ xᵢ",
}
DECIMALS = {"h": 2, "a": 3, "y_hat": 3, "delta_o": 3, "delta_h": 3}


def seed_example():
    model = MLP([1, 1], activation="sigmoid", use_bias=False, loss="sse")
    model.build((None, 2))
    w = np.array([[0.4], [-0.2]], "float32")
    W = np.array([[0.1]], "float32")
    model.set_weights([w, W])
    x = np.array([[0.1, 0.3]], "float32")
    y = np.array([[1.0]], "float32")
    trace = model.backprop_trace(x, y, learning_rate=0.5)
    values = {k: np.asarray(trace[k]).ravel() for k in SEED_NUMBERS}
    print(f"{'quantity':<22}{'refnn':>24}{'seed':>20}")
    for name, formula in FORMULAS.items():
        got = ", ".join(f"{v:.6f}" for v in values[name])
        print(f"{formula:<22}{got:>24}{str(SEED_NUMBERS[name]):>20}")
    return model, x, y, values


def matches_seed(values):
    """The refnn numbers rounded as the seed prints them."""
    ok = all(
        round(float(values[k][0]), d) == SEED_NUMBERS[k]
        for k, d in DECIMALS.items()
    )
    ok &= round(float(values["Delta_W"][0]), 4) == SEED_NUMBERS["Delta_W"]
    # The seed multiplies the rounded δʰ = 0.003; the exact Δw differs by
    # less than 1e-5.
    ok &= bool(
        np.allclose(values["Delta_w"], SEED_NUMBERS["Delta_w"], atol=1e-5)
    )
    return ok


"""
One SGD step of Keras's `fit` with η = 0.5 and batch size 1 moves the
weights by exactly ΔW and Δw: the model returns the gradient −δ aᵀ, and the
optimizer steps against it.
"""


def one_fit_step(model, x, y):
    before = model.get_weights()
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)
    after = model.get_weights()
    step_w = (after[0] - before[0]).ravel()
    step_W = (after[1] - before[1]).ravel()
    print(f"fit step: ΔW = {step_W[0]:.6f}, Δw = {step_w}")
    return step_W, step_w


"""
## Checking the δ rules against autodiff

For a random 3-layer network the hand-written gradients must equal what
`tf.GradientTape` finds by differentiating `model.compute_loss`.
"""


def gradient_check():
    rng = np.random.default_rng(0)
    model = MLP(
        [6, 4, 3],
        activation="tanh",
        output_activation="softmax",
        loss="categorical_crossentropy",
        l2=0.01,
    )
    x = rng.normal(size=(8, 5)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=8)]
    model.build(x.shape)
    explicit = model.compute_gradients(x, y)
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True))
    taped = tape.gradient(loss, model.trainable_variables)
    worst = max(
        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for a, b in zip(explicit, taped)
    )
    for var, a, b in zip(model.trainable_variables, explicit, taped):
        diff = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        print(f"  {var.path:<20} max |δ-rule − tape| = {diff:.2e}")
    return worst


"""
## XOR: a hidden layer makes it separable

No line separates XOR, so a perceptron cannot learn it; one hidden layer
of tanh units can. We train with the explicit gradients and Adam on a
`tf.data` pipeline, XLA-compiled.
"""

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
XOR_Y = np.array([[0], [1], [1], [0]], "float32")


def train_xor(steps):
    dataset = tf.data.Dataset.from_tensors((XOR_X, XOR_Y)).repeat()
    model = MLP(
        [8, 1],
        activation="tanh",
        output_activation="sigmoid",
        loss="binary_crossentropy",
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), jit_compile=True)
    model.fit(
        dataset,
        steps_per_epoch=steps,
        epochs=1,
        shuffle=False,
        callbacks=[refnn.tutorials.progress(final=False)],
        verbose=0,
    )
    predicted = (np.asarray(model.predict(XOR_X, verbose=0)) > 0.5).astype(int)
    accuracy = float(np.mean(predicted == XOR_Y))
    print(f"XOR predictions {predicted.ravel()} accuracy {accuracy:.2f}")
    return model, accuracy


def plot_xor(model, path):
    grid = np.linspace(-0.5, 1.5, 101, dtype="float32")
    gx, gy = np.meshgrid(grid, grid)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    probs = np.asarray(model.predict(points, verbose=0)).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    region = ax.contourf(
        gx, gy, probs, levels=np.linspace(0, 1, 21), cmap="RdBu_r", alpha=0.8
    )
    fig.colorbar(region, ax=ax, label="P(y = 1), the MLP's output ŷ")
    ax.contour(gx, gy, probs, levels=[0.5], colors="k")
    for label, color in ((1, "tab:red"), (0, "tab:blue")):
        mask = XOR_Y.ravel() == label
        ax.scatter(
            *XOR_X[mask].T,
            c=color,
            s=120,
            edgecolors="k",
            label=f"y = {label}",
        )
    ax.plot([], [], "k-", label="P = 0.5 boundary")
    ax.set_xlabel("x₁ (input, unitless)")
    ax.set_ylabel("x₂ (input, unitless)")
    ax.set_title("MLP on XOR: P(y = 1) and the 0.5 boundary")
    ax.legend(loc="upper center", fontsize=8, framealpha=0.9)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


"""
## Handwritten digits

8×8 digit images (shipped with scikit-learn, no download), 64 inputs, one
hidden ReLU layer, softmax output, cross-entropy: with a softmax output
and cross-entropy the output error is simply δᵒ = y − ŷ.
"""


def train_digits(epochs, quick):
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    y = y.astype("int32")
    if quick:
        x, y = x[:600], y[:600]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    train = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(x_train), seed=0)
        .batch(64)
    )
    test = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(256)
    model = MLP(
        [64, 10],
        activation="relu",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
        l2=1e-4,
        name="digits_mlp",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        metrics=["sparse_categorical_accuracy"],
    )
    history = model.fit(
        train,
        validation_data=test,
        epochs=epochs,
        shuffle=False,
        callbacks=[refnn.tutorials.progress()],
        verbose=0,
    )
    accuracy = model.evaluate(test, verbose=0, return_dict=True)[
        "sparse_categorical_accuracy"
    ]
    print(f"digits test accuracy: {accuracy:.3f}")
    return model, history, float(accuracy), x_test


def plot_loss(history, path):
    fig, ax = plt.subplots(figsize=(5, 3.5))
    epochs = np.arange(1, len(history.history["loss"]) + 1)
    ax.plot(epochs, history.history["loss"], "o-", label="train")
    ax.plot(epochs, history.history["val_loss"], "o-", label="test")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy + λΣW² (nats)")
    ax.set_title("Digits MLP trained by the δ rules")
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


args = refnn.tutorials.parse_args("03_backpropagation")
keras.utils.set_random_seed(0)

print("== The seed's worked example ==")
model, x, y, values = seed_example()
seed_ok = matches_seed(values)
step_W, step_w = one_fit_step(model, x, y)
step_ok = bool(
    np.allclose(step_W, values["Delta_W"], atol=1e-6)
    and np.allclose(step_w, values["Delta_w"], atol=1e-6)
)

print("== δ rules vs tf.GradientTape ==")
worst = gradient_check()

print("== XOR ==")
xor_model, xor_accuracy = train_xor(steps=200 if args.quick else 500)
plot_xor(xor_model, args.out / "xor_decision_region.png")

print("== Digits ==")
digits, history, accuracy, x_test = train_digits(
    epochs=4 if args.quick else 15, quick=args.quick
)
plot_loss(history, args.out / "digits_loss.png")

"""
## Export for TF Serving

`serving_default` takes `features` (batch, 64) and returns
`probabilities` (batch, 10) and `label` (batch,).
"""

path = export_savedmodel(
    digits, "03_backpropagation_digits_mlp", base_dir=args.savedmodels
)
print("exported to", path)

assert seed_ok, f"refnn's numbers differ from the seed's: {values}"
assert step_ok, (
    f"one SGD(0.5) fit step moved W by {step_W} and w by {step_w}, "
    f"expected ΔW={values['Delta_W']} and Δw={values['Delta_w']}"
)
assert worst < 1e-5, f"δ-rule gradients differ from the tape by {worst}"
assert xor_accuracy == 1.0, f"XOR not solved: accuracy {xor_accuracy}"
threshold = 0.85 if args.quick else 0.95
assert accuracy >= threshold, (
    f"digits test accuracy {accuracy:.3f} below {threshold}"
)
print("plots written to", args.out)
refnn.tutorials.report(
    model="MLP",
    dataset="digits",
    metric="test_accuracy",
    value=accuracy,
    export=path,
    seed_example_matches=seed_ok,
    max_grad_diff_vs_tape=worst,
    xor_accuracy=xor_accuracy,
)
