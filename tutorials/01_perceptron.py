"""
Title: The perceptron and its update rule
Description: Train a perceptron with the seed's rule on separable blobs, draw
    the boundary after every epoch, compare with scikit-learn, export it.
Seed section: 002 "Perceptron Algorithm" (both), "Gradient Descent".
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
from sklearn.linear_model import Perceptron as SkPerceptron  # noqa: E402

import refnn.tutorials  # noqa: E402
from refnn.export import export_savedmodel  # noqa: E402
from refnn.models import Perceptron  # noqa: E402

"""
## The model

A perceptron draws a line w₁x₁ + w₂x₂ + b = 0 and predicts

    ŷ = step(w₁x₁ + w₂x₂ + b)   (1 on the positive side, 0 on the other).

It learns by looking at one point at a time. A correctly classified point
changes nothing. A misclassified point pulls the line towards itself:

- label 1 predicted 0:  w ← w + αx,  b ← b + α
- label 0 predicted 1:  w ← w − αx,  b ← b − α

which is w ← w + α(y − ŷ)x since y − ŷ is +1, −1 or 0. `refnn.models.
Perceptron` applies exactly this rule in its `train_step` (it assigns the
variables: the rule is not a gradient), and with `batch_size=1` Keras's
`fit` visits the points one by one as the seed describes.
"""

"""
## Data: two separable blobs

The convergence theorem holds for linearly separable data. We draw two
Gaussian clouds that nearly touch (label 1 up-right, label 0 down-left) and
drop the few points closer than a small margin to a true line
x₁ + 0.5x₂ = 0.5, so a separating line exists but is not easy to find.
"""


def make_blobs(n, margin=0.15, seed=0):
    rng = np.random.default_rng(seed)
    pos = rng.normal((1.2, 1.0), 0.9, size=(2 * n, 2))
    neg = rng.normal((-0.8, -0.6), 0.9, size=(2 * n, 2))
    x = np.concatenate([pos, neg])
    signed = (x[:, 0] + 0.5 * x[:, 1] - 0.5) / np.hypot(1.0, 0.5)
    y = (signed > 0).astype("float32")
    keep = np.flatnonzero(np.abs(signed) > margin)
    keep = rng.permutation(keep)[:n]
    return x[keep].astype("float32"), y[keep]


"""
## Training until every point is right

"Learning continues until all points are correctly classified or maximum
iterations reached": a callback stops `fit` after the first epoch without a
mistake. The model records (w, b) after every epoch in `boundaries_`.
"""


class StopWhenNoMistakes(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if logs and logs.get("mistakes") == 0:
            self.model.stop_training = True


def line_points(w, b, xs):
    """Points of w₁x₁ + w₂x₂ + b = 0 (x₂ as a function of x₁)."""
    if abs(w[1]) < 1e-12:
        return np.full_like(xs, np.nan), xs
    return xs, -(w[0] * xs + b) / w[1]


def plot_progression(x, y, start, boundaries, path):
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(*x[y == 1].T, c="tab:blue", s=14, label="y = 1")
    ax.scatter(*x[y == 0].T, c="tab:red", s=14, label="y = 0")
    xs = np.linspace(x[:, 0].min() - 1, x[:, 0].max() + 1, 50)
    ax.plot(*line_points(*start, xs), "--", c="gray", label="start")
    for w, b in boundaries[:-1]:
        ax.plot(*line_points(w, b, xs), "k:", lw=0.8)
    ax.plot(*line_points(*boundaries[-1], xs), "k-", lw=2, label="final")
    ax.set_ylim(x[:, 1].min() - 1, x[:, 1].max() + 1)
    ax.set_title("Perceptron: boundary after each epoch (dotted)")
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=100)
    plt.close(fig)


args = refnn.tutorials.parse_args("01_perceptron")
keras.utils.set_random_seed(0)
n = 40 if args.quick else 200
x, y = make_blobs(n)

model = Perceptron(learning_rate=0.1)
model.compile()
# A deliberately wrong start, as in the seed's picture: the line
# −x₁ + x₂ + 1 = 0, almost perpendicular to a good one.
model.build((None, 2))
model.kernel.assign([-1.0, 1.0])
model.bias.assign(1.0)
start = (np.array([-1.0, 1.0]), 1.0)
history = model.fit(
    x,
    y,
    batch_size=1,
    epochs=20,
    callbacks=[StopWhenNoMistakes(), refnn.tutorials.progress(final=False)],
    verbose=0,
)
mistakes = history.history["mistakes"]
print("mistakes per epoch:", [int(m) for m in mistakes])

"""
The first epoch makes a few mistakes; each one moves the line. Once an
epoch goes by without a mistake the line separates the data and stays
put. The dotted lines are the boundaries after each epoch, the solid one
the final boundary.
"""

plot_progression(
    x, y, start, model.boundaries_, args.out / "perceptron_progression.png"
)
predictions = model.predict(x, verbose=0)[:, 0]
accuracy = float(np.mean(predictions == y))
print(f"refnn Perceptron training accuracy: {accuracy:.3f}")

"""
## Comparison with scikit-learn

scikit-learn's `Perceptron` runs the same rule (with α = 1 and a
shuffled order); on separable data both reach 100%.
"""

sk = SkPerceptron(random_state=0).fit(x, y)
sk_accuracy = float(sk.score(x, y))
print(f"sklearn Perceptron training accuracy: {sk_accuracy:.3f}")

"""
## Export for TF Serving

The export's `serving_default` takes `features` (batch, 2) and returns
`label` (int) and `score` (w·x + b).
"""

path = export_savedmodel(
    model, "01_perceptron_blobs", base_dir=args.savedmodels
)
print("exported to", path)

assert accuracy == 1.0, (
    f"the perceptron should separate separable blobs, got training "
    f"accuracy {accuracy} after {len(mistakes)} epochs"
)
print("plots written to", args.out)
refnn.tutorials.report(
    model="Perceptron",
    dataset="blobs",
    metric="train_accuracy",
    value=accuracy,
    export=path,
    sklearn_accuracy=sk_accuracy,
    epochs=len(mistakes),
    first_epoch_mistakes=int(mistakes[0]),
)
