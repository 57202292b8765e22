"""Explicit-backprop MLP `fit` time vs the same MLP trained by autodiff.

Three trainers of the same architecture (64 → hidden → 10 softmax, sparse
cross-entropy, SGD with momentum), with the same initial weights, on the
same tf.data pipeline (sklearn digits, batch 64):

* ``explicit``: `refnn.models.MLP`, gradients by the δ rules (no tape);
* ``tape_mlp``: the same `MLP` class with a `tf.GradientTape` train step;
* ``keras_dense``: a `keras.Sequential` of `Dense` layers (autodiff).

Each timed call is one `fit` of a few epochs on an already compiled model;
medians of interleaved runs, with `jit_compile` off and on. The ratio is
``autodiff_time / explicit_time`` (> 1: explicit backprop is faster).

Run from the repository root::

    python benchmarks/mlp_backprop.py           # full
    python benchmarks/mlp_backprop.py --quick   # seconds-long smoke run
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402  (sets KERAS_BACKEND before keras is imported)
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from refnn import losses  # noqa: E402
from refnn.models import MLP  # noqa: E402


class TapeMLP(MLP):
    """`MLP` whose train step uses `tf.GradientTape` (the autodiff anchor)."""

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight
            )
        grads = tape.gradient(loss, self.trainable_variables)
        self._loss_tracker.update_state(loss, sample_weight=tf.shape(x)[0])
        self.optimizer.apply(grads, self.trainable_variables)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def make_dataset(batch_size):
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    y = y.astype("int32")
    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .batch(batch_size)
        .cache()
        .prefetch(tf.data.AUTOTUNE)
    )


def make_trainers(units, activation, jit_compile, weights, steps_per_exec):
    def optimizer():
        return keras.optimizers.SGD(0.05, momentum=0.9)

    kwargs = dict(
        activation=activation,
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
    )
    explicit = MLP(units, **kwargs)
    tape_mlp = TapeMLP(units, **kwargs)
    for model in (explicit, tape_mlp):
        model.build((None, 64))
        model.set_weights(weights)
        model.compile(
            optimizer=optimizer(),
            jit_compile=jit_compile,
            steps_per_execution=steps_per_exec,
        )
    dense = explicit.to_dense_sequential()
    dense.compile(
        optimizer=optimizer(),
        loss=losses.SparseCategoricalCrossEntropy(),
        jit_compile=jit_compile,
        steps_per_execution=steps_per_exec,
    )
    return {"explicit": explicit, "tape_mlp": tape_mlp, "keras_dense": dense}


COLUMNS = [
    "net",
    "jit",
    "explicit wall s",
    "tape_mlp / explicit (wall)",
    "keras_dense / explicit (wall)",
    "explicit cpu s",
    "tape_mlp / explicit (cpu)",
    "keras_dense / explicit (cpu)",
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--steps-per-execution",
        type=int,
        default=8,
        help="train steps per tf.function call (less Python overhead)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="TF intra/inter-op threads (0: TensorFlow's default)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    epochs = args.epochs or (1 if args.quick else 5)
    repeats = args.repeats or (3 if args.quick else 9)
    configs = (
        [([64, 10], "relu")]
        if args.quick
        else [
            ([64, 10], "relu"),
            ([128, 64, 10], "sigmoid"),
            ([512, 512, 10], "tanh"),
        ]
    )
    dataset = make_dataset(args.batch_size)
    print(common.machine_info())
    print(
        f"digits (1797 x 64), batch {args.batch_size}, {epochs} epoch(s) per "
        f"fit, steps_per_execution {args.steps_per_execution}, TF threads "
        f"{args.threads or 'default'}, median of {repeats} interleaved runs"
    )
    rows = []
    for units, activation in configs:
        keras.utils.set_random_seed(0)
        probe = MLP(units, activation=activation, output_activation="softmax")
        probe.build((None, 64))
        weights = probe.get_weights()
        for jit_compile in (False, True):
            trainers = make_trainers(
                units,
                activation,
                jit_compile,
                weights,
                args.steps_per_execution,
            )
            fns = {
                name: (
                    lambda m=model: m.fit(
                        dataset, epochs=epochs, shuffle=False, verbose=0
                    )
                )
                for name, model in trainers.items()
            }
            wall, cpu = common.interleaved_wall_and_cpu(fns, repeats=repeats)
            rows.append(
                {
                    "net": "-".join(map(str, [64, *units])) + f" {activation}",
                    "jit": jit_compile,
                    "explicit wall s": wall["explicit"],
                    "tape_mlp / explicit (wall)": wall["tape_mlp"]
                    / wall["explicit"],
                    "keras_dense / explicit (wall)": wall["keras_dense"]
                    / wall["explicit"],
                    "explicit cpu s": cpu["explicit"],
                    "tape_mlp / explicit (cpu)": cpu["tape_mlp"]
                    / cpu["explicit"],
                    "keras_dense / explicit (cpu)": cpu["keras_dense"]
                    / cpu["explicit"],
                }
            )
            keras.backend.clear_session()
    print(common.markdown_table(rows, COLUMNS))
    return rows


if __name__ == "__main__":
    main()
