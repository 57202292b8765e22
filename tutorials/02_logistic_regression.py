"""
Title: Logistic regression by gradient descent, then softmax on digits
Description: Replace the perceptron's step by a sigmoid, descend the log-loss
    with the hand-derived gradient, compare with the perceptron, then train
    softmax regression on scikit-learn's digits and export it.
Seed section: 002 "Sigmoid Functions", "Log-Loss Error Function",
    "Logistic Regression", "Gradient calculation", "Gradient descent step",
    "Logistic Regression Algorithm", "Multi-Class Classification and Softmax".
"""

import refnn_cli

# refnn and TensorFlow start here, TensorFlow's start-up log lines hidden
# (`--verbose` or REFNN_VERBOSE=1 shows them).
refnn_cli.import_refnn()

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.export import export_savedmodel  # noqa: E402
from refnn.models import LogisticRegression, Perceptron  # noqa: E402

"""
## From hard labels to probabilities

The perceptron answers 0 or 1. Logistic regression keeps the line but
replaces the step by the sigmoid,

    ŷ = σ(w·x + b),   σ(t) = 1 / (1 + e^−t),

so every point gets a probability, larger the further it is from the line on
the positive side. The error is the log-loss (cross-entropy)

    E = −1/m Σ [y ln ŷ + (1 − y) ln(1 − ŷ)],

and the seed derives its gradient by hand:

    ∂E/∂w = −1/m Σ (y − ŷ) x,    ∂E/∂b = −1/m Σ (y − ŷ).

A gradient descent step w ← w − α ∂E/∂w is w ← w + α/m Σ (y − ŷ) x: the
perceptron's rule, except that *every* point pulls, in proportion to how
wrong its probability is. `refnn.models.LogisticRegression` computes this
gradient in its `train_step` and hands it to the compiled optimizer.
"""

"""
## Overlapping 2-D data

Two Gaussian clouds that overlap: no line separates them, which is where
probabilities and a smooth error help.
"""


def make_overlapping(n, seed=0):
    rng = np.random.default_rng(seed)
    pos = rng.normal((1.0, 1.0), 1.0, size=(n // 2, 2))
    neg = rng.normal((-1.0, -1.0), 1.0, size=(n - n // 2, 2))
    x = np.concatenate([pos, neg]).astype("float32")
    y = np.r_[np.ones(n // 2), np.zeros(n - n // 2)].astype("int32")
    order = rng.permutation(n)
    return x[order], y[order]


class RecordLines(keras.callbacks.Callback):
    """Keeps (w, b) after each step to draw the boundary w·x + b = 0."""

    def __init__(self):
        super().__init__()
        self.lines = []

    def _record(self):
        w = keras.ops.convert_to_numpy(self.model.kernel)[:, 0].copy()
        b = float(keras.ops.convert_to_numpy(self.model.bias)[0])
        self.lines.append((w, b))

    def on_train_begin(self, logs=None):
        self._record()  # step 0: the starting line

    def on_train_batch_end(self, batch, logs=None):
        self._record()


def plot_descent(x, y, lines, log_loss, mistakes, path):
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    ax.scatter(*x[y == 1].T, c="tab:blue", s=10, label="y = 1")
    ax.scatter(*x[y == 0].T, c="tab:red", s=10, label="y = 0")
    xs = np.linspace(x[:, 0].min(), x[:, 0].max(), 50)
    last = len(lines) - 1
    for i in sorted({0, 1, 3, 8, 25, last}):
        w, b = lines[min(i, last)]
        style = "k-" if i == last else "k:"
        x2 = -(w[0] * xs + b) / w[1]
        ax.plot(xs, x2, style, lw=1.5 if i == last else 1.0)
        k = int(np.argmin(np.abs(x2 - x[:, 1].max() + 0.3)))
        ax.annotate(f"step {i}", (xs[k], x2[k]), fontsize=8)
    ax.set_ylim(x[:, 1].min(), x[:, 1].max())
    ax.set_title("Logistic regression: boundary after SGD steps")
    ax.legend(loc="lower right")
    epochs = np.arange(1, len(log_loss) + 1)
    (loss_line,) = ax2.plot(
        epochs, log_loss, "o-", label="logistic regression: log-loss"
    )
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("log-loss")
    twin = ax2.twinx()
    (mistake_line,) = twin.plot(
        np.arange(1, len(mistakes) + 1),
        mistakes,
        "s--",
        c="tab:orange",
        label="perceptron: mistakes",
    )
    twin.set_ylabel("perceptron mistakes per epoch")
    ax2.set_title("Smooth error vs counted mistakes")
    ax2.legend(handles=[loss_line, mistake_line], loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


args = refnn.tutorials.parse_args("02_logistic_regression")
keras.utils.set_random_seed(0)
n = 100 if args.quick else 200
epochs = 8 if args.quick else 15
x, y = make_overlapping(n)

"""
## Gradient descent steps on 2-D data

Plain SGD with α = 0.1 on mini-batches of 16 points: each step is the
seed's w ← w + α/m Σ (y − ŷ) x. Starting from a wrong line, the first
steps turn it quickly (the badly classified points have y − ŷ close to
±1), later steps only refine it. The log-loss goes down every epoch.
"""

model = LogisticRegression()
model.compile(keras.optimizers.SGD(0.1), metrics=["accuracy"])
# Start from a wrong line, −x₁ + x₂ + 1 = 0, to watch the steps turn it.
model.build((None, 2))
model.kernel.assign([[-1.0], [1.0]])
model.bias.assign([1.0])
recorder = RecordLines()
history = model.fit(
    x,
    y,
    batch_size=16,
    epochs=epochs,
    callbacks=[recorder, refnn.tutorials.progress(final=False)],
    verbose=0,
)
log_loss = history.history["loss"]
accuracy_2d = history.history["accuracy"][-1]
print("log-loss per epoch:", np.round(log_loss, 3).tolist())

"""
## The perceptron on the same data

On overlapping data the perceptron never runs out of mistakes: its
line keeps jumping, and the number of mistakes does not settle. The
log-loss, in contrast, decreases smoothly, because every point
contributes a little, not only the misclassified ones.
"""

perceptron = Perceptron(learning_rate=0.1, record_boundaries=False)
p_history = perceptron.fit(
    x,
    y.astype("float32"),
    batch_size=1,
    epochs=epochs,
    callbacks=[refnn.tutorials.progress(final=False)],
    verbose=0,
)
mistakes = p_history.history["mistakes"]
print("perceptron mistakes per epoch:", [int(m) for m in mistakes])
plot_descent(
    x,
    y,
    recorder.lines,
    log_loss,
    mistakes,
    args.out / "logistic_regression_descent.png",
)

"""
Probabilities vs hard labels: a point near the line, like (0, 0), gets
a probability not far from 0.5 from logistic regression, and points
far from it get probabilities near 0 or 1; the perceptron only ever
says 0 or 1.
"""

probe = np.array([[2.0, 2.0], [0.0, 0.0], [-2.0, -2.0]], "float32")
probs = model.predict(probe, verbose=0)[:, 0]
hard = perceptron.predict(probe, verbose=0)[:, 0]
for point, p, h in zip(probe, probs, hard):
    print(f"x = {point}: P(y=1) = {p:.3f}, perceptron label = {int(h)}")

"""
## Softmax regression on digits

With K classes the model has K scores z = xW + b and
softmax(z)_i = e^(z_i) / Σ_j e^(z_j). The error is the multi-class
cross-entropy and the gradient has the same form with one-hot y:
∂E/∂W = −1/m Xᵀ(Y − Ŷ). We train on scikit-learn's 8×8 digits (shipped
with scikit-learn: no download), pixels scaled to [0, 1], with SGD and
momentum this time: the optimizer is the compiled one.
"""

digits = load_digits()
features = (digits.data / 16.0).astype("float32")
x_train, x_test, y_train, y_test = train_test_split(
    features,
    digits.target,
    test_size=0.25,
    random_state=0,
    stratify=digits.target,
)
softmax_model = LogisticRegression(num_classes=10)
softmax_model.compile(
    keras.optimizers.SGD(0.5, momentum=0.9), metrics=["accuracy"]
)
softmax_model.fit(
    x_train,
    y_train,
    batch_size=32,
    epochs=3 if args.quick else 10,
    callbacks=[refnn.tutorials.progress()],
    verbose=0,
)
result = softmax_model.evaluate(x_test, y_test, verbose=0, return_dict=True)
test_accuracy = float(result["accuracy"])
print(f"digits test accuracy: {test_accuracy:.3f}")

"""
## Export for TF Serving

`serving_default`: `features` (batch, 64) → `probabilities` (batch, 10)
and `label` (the argmax class).
"""

path = export_savedmodel(
    softmax_model,
    "02_logistic_regression_digits",
    base_dir=args.savedmodels,
)
print("exported to", path)

assert log_loss[-1] < log_loss[0], (
    f"gradient descent should lower the log-loss, got {log_loss}"
)
assert probs[0] > 0.9 > probs[1] > 0.1 > probs[2], (
    f"probabilities should grow with the distance from the line, got {probs}"
)
assert test_accuracy >= 0.9, (
    f"softmax regression should reach 90% on digits, got {test_accuracy}"
)
print("plots written to", args.out)
refnn.tutorials.report(
    model="LogisticRegression",
    dataset="digits",
    metric="test_accuracy",
    value=test_accuracy,
    export=path,
    blobs_accuracy=float(accuracy_2d),
    final_log_loss=float(log_loss[-1]),
    perceptron_last_epoch_mistakes=int(mistakes[-1]),
)
