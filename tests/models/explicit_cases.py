"""The three explicit-gradient models on fixed data, for backend/device runs.

Imported by the tests and run as a script in a subprocess (another backend):
`python explicit_cases.py OUT.npz` trains every model from
`initial_weights` and writes its weights and logs to OUT.npz.
"""

import sys

import keras
import numpy as np

from refnn.models import MLP, LogisticRegression, Perceptron

NAMES = ("perceptron", "logistic_regression", "mlp")
BATCH_SIZE = 8  # global batch; 24 points = 3 steps per epoch


def make_model(name, dtype=None):
    if name == "perceptron":
        return Perceptron(learning_rate=0.5, dtype=dtype)
    if name == "logistic_regression":
        return LogisticRegression(num_classes=3, dtype=dtype)
    return MLP(
        [8, 3],
        activation="tanh",
        output_activation="softmax",
        loss="categorical_crossentropy",
        l2=1e-3,
        dtype=dtype,
    )


def data(name, n=24, dim=5):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, dim)).astype("float32")
    if name == "perceptron":
        y = (x @ rng.normal(size=dim) > 0.3).astype("float32")
    else:
        y = np.argmax(x[:, :3] + 0.5 * rng.normal(size=(n, 3)), axis=-1)
    if name == "mlp":
        y = np.eye(3, dtype="float32")[y]
    return x, y


def initial_weights(name):
    model = make_model(name)
    model.build((None, data(name)[0].shape[1]))
    rng = np.random.default_rng(11)
    return [
        rng.normal(scale=0.5, size=w.shape).astype("float32")
        for w in model.get_weights()
    ]


def train(name, weights, dtype=None, epochs=2, learning_rate=0.1):
    """Builds model `name` with `weights`, fits it; returns (model, logs)."""
    x, y = data(name)
    model = make_model(name, dtype)
    model.build((None, x.shape[1]))
    model.set_weights(weights)
    if name == "perceptron":
        model.compile()
    else:
        model.compile(keras.optimizers.SGD(learning_rate, momentum=0.9))
    history = model.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        shuffle=False,
        verbose=0,
    )
    return model, history.history


def train_all():
    """{"NAME/wI": weights, "NAME/log_KEY": logs} of every model."""
    results = {}
    for name in NAMES:
        model, logs = train(name, initial_weights(name))
        for i, w in enumerate(model.get_weights()):
            results[f"{name}/w{i}"] = w
        for key, values in logs.items():
            results[f"{name}/log_{key}"] = np.asarray(values)
    return results


if __name__ == "__main__":
    np.savez(sys.argv[1], backend=keras.backend.backend(), **train_all())
