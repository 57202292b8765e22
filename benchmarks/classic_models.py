"""Perceptron and logistic regression: refnn vs scikit-learn (time, accuracy).

Two pairs on the same data, in one process:

* ``Perceptron``: `refnn.models.Perceptron` (online rule, α = 1; batch 1, or
  the whole epoch as one batch with ``update="sequential"``) vs
  `sklearn.linear_model.Perceptron` (same rule, α = 1, no shuffling), the
  same number of epochs, on linearly separable 2-D blobs; training accuracy.
* ``LogisticRegression``: `refnn.models.LogisticRegression` (10-class
  softmax, hand gradient, SGD α = 0.5, batch 32) vs
  `sklearn.linear_model.LogisticRegression` (lbfgs, its defaults) on
  scikit-learn's digits (75/25 stratified split, pixels / 16); test accuracy.

Each refnn model is timed two ways: ``cold`` builds, compiles and fits a new
model (includes tracing the `tf.function`), ``warm`` re-fits an already
trained-once model after resetting its weights (the steady state of
`fit`). sklearn is always a fresh `fit`. Medians of interleaved runs; the
ratio is ``sklearn_time / refnn_time`` (> 1: refnn is faster).

Run from the repository root::

    python benchmarks/classic_models.py           # full
    python benchmarks/classic_models.py --quick   # seconds-long smoke run
"""

import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402  (sets KERAS_BACKEND before keras is imported)
import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn import linear_model  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from refnn.models import LogisticRegression, Perceptron  # noqa: E402


def separable_blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate(
        [
            rng.normal((1.5, 1.5), 1.0, size=(2 * n, 2)),
            rng.normal((-1.5, -1.5), 1.0, size=(2 * n, 2)),
        ]
    )
    signed = x[:, 0] + x[:, 1]
    keep = rng.permutation(np.flatnonzero(np.abs(signed) > 0.3))[:n]
    return x[keep].astype("float32"), (signed[keep] > 0).astype("float32")


def reset(model):
    for v in model.trainable_variables:
        v.assign(np.zeros(v.shape, "float32"))


def perceptron_rows(n, epochs, repeats):
    x, y = separable_blobs(n)
    results = {}

    def refnn_cold():
        model = Perceptron(learning_rate=1.0, record_boundaries=False)
        model.compile()
        model.fit(x, y, batch_size=1, epochs=epochs, shuffle=False, verbose=0)
        results["refnn"] = model

    warm = Perceptron(learning_rate=1.0, record_boundaries=False)
    warm.compile()
    warm.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0)

    def refnn_warm():
        reset(warm)
        warm.fit(x, y, batch_size=1, epochs=epochs, shuffle=False, verbose=0)

    # The same rule with `steps_per_execution`: many batch-1 steps per
    # tf.function call (one Python round trip per 100 points).
    loop = Perceptron(learning_rate=1.0, record_boundaries=False)
    loop.compile(steps_per_execution=100)
    loop.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0)

    def refnn_loop():
        reset(loop)
        loop.fit(x, y, batch_size=1, epochs=epochs, shuffle=False, verbose=0)

    # update="sequential": the same online updates, the whole epoch as one
    # batch visited point by point inside one compiled loop.
    seq = Perceptron(
        learning_rate=1.0, record_boundaries=False, update="sequential"
    )
    seq.fit(x, y, batch_size=n, epochs=1, shuffle=False, verbose=0)

    def refnn_seq():
        reset(seq)
        seq.fit(x, y, batch_size=n, epochs=epochs, shuffle=False, verbose=0)

    def sklearn_fit():
        sk = linear_model.Perceptron(
            eta0=1.0, max_iter=epochs, tol=None, shuffle=False
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            results["sklearn"] = sk.fit(x, y)

    times = common.interleaved_medians(
        {
            "cold": refnn_cold,
            "warm": refnn_warm,
            "warm, steps_per_execution=100": refnn_loop,
            "warm, update=sequential": refnn_seq,
            "sklearn": sklearn_fit,
        },
        repeats=repeats,
    )
    predictions = results["refnn"].predict(x, verbose=0)[:, 0]
    refnn_acc = float(np.mean(predictions == y))
    same = np.allclose(
        keras.ops.convert_to_numpy(seq.kernel),
        keras.ops.convert_to_numpy(results["refnn"].kernel),
        atol=1e-5,
    )
    assert same, "update='sequential' must give the online (batch 1) weights"
    sk_acc = float(results["sklearn"].score(x, y))
    data = f"blobs n={n}, {epochs} epochs, batch"
    return [
        {
            "model": f"Perceptron ({mode})",
            "data": f"{data} {n if 'sequential' in mode else 1}",
            "refnn_s": times[mode],
            "sklearn_s": times["sklearn"],
            "ratio": times["sklearn"] / times[mode],
            "refnn_acc": refnn_acc,
            "sklearn_acc": sk_acc,
        }
        for mode in (
            "cold",
            "warm",
            "warm, steps_per_execution=100",
            "warm, update=sequential",
        )
    ]


def logistic_rows(epochs, repeats, quick):
    digits = load_digits()
    features = (digits.data / 16.0).astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        digits.target,
        test_size=0.25,
        random_state=0,
        stratify=digits.target,
    )
    if quick:
        x_train, y_train = x_train[:300], y_train[:300]
    results = {}

    def fit(model):
        model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)

    def refnn_cold():
        model = LogisticRegression(num_classes=10)
        model.compile(keras.optimizers.SGD(0.5))
        fit(model)
        results["refnn"] = model

    warm = LogisticRegression(num_classes=10)
    warm.compile(keras.optimizers.SGD(0.5))
    warm.fit(x_train, y_train, batch_size=32, epochs=1, verbose=0)

    def refnn_warm():
        reset(warm)
        fit(warm)

    def sklearn_fit():
        sk = linear_model.LogisticRegression(max_iter=1000)
        results["sklearn"] = sk.fit(x_train, y_train)

    times = common.interleaved_medians(
        {"cold": refnn_cold, "warm": refnn_warm, "sklearn": sklearn_fit},
        repeats=repeats,
    )
    probs = results["refnn"].predict(x_test, verbose=0)
    refnn_acc = float(np.mean(probs.argmax(-1) == y_test))
    sk_acc = float(results["sklearn"].score(x_test, y_test))
    data = f"digits train={len(x_train)}, {epochs} epochs, batch 32"
    return [
        {
            "model": f"LogisticRegression ({mode})",
            "data": data,
            "refnn_s": times[mode],
            "sklearn_s": times["sklearn"],
            "ratio": times["sklearn"] / times[mode],
            "refnn_acc": refnn_acc,
            "sklearn_acc": sk_acc,
        }
        for mode in ("cold", "warm")
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 5
    print(common.machine_info())
    rows = perceptron_rows(
        n=100 if args.quick else 1000,
        epochs=2 if args.quick else 5,
        repeats=repeats,
    )
    rows += logistic_rows(
        epochs=2 if args.quick else 10, repeats=repeats, quick=args.quick
    )
    columns = [
        "model",
        "data",
        "refnn_s",
        "sklearn_s",
        "ratio",
        "refnn_acc",
        "sklearn_acc",
    ]
    print(common.markdown_table(rows, columns))
    return rows


if __name__ == "__main__":
    main()
