"""One worker (or the single-process reference) of the multi-worker tests.

`python multi_worker_run.py OUT.npz [--single] [--checkpoint-dir D]
[--step-delay S]` trains a small MLP and a small GPT with
`refnn.distribute.fit_multi_worker` over the same global batches: on the
cluster in TF_CONFIG, or with `--single` on one replica; worker 0 writes
the final weights to OUT.npz.
"""

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from refnn import distribute  # noqa: E402

GLOBAL_BATCH = 8


def _mlp():
    import keras

    from refnn.models import MLP

    model = MLP(
        [16, 3],
        activation="relu",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
    )
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9))
    return model


def _gpt():
    import keras

    from refnn.models import GPT

    model = GPT(
        vocabulary_size=20,
        max_length=8,
        num_layers=1,
        hidden_dim=16,
        num_heads=2,
        intermediate_dim=32,
    )
    model.compile(
        keras.optimizers.SGD(0.1, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def _data(name):
    rng = np.random.default_rng(5)
    if name == "mlp":
        x = rng.normal(size=(48, 6)).astype("float32")
        return x, np.argmax(x[:, :3], axis=-1).astype("int32")
    ids = rng.integers(0, 20, (48, 9)).astype("int32")
    return ids[:, :-1], ids[:, 1:]


def run(names, strategy, checkpoint_dir=None, step_delay=0.0):
    """Trains each model in `names`; returns weights, loss, first step."""
    import keras

    results = {"replicas": np.asarray(strategy.num_replicas_in_sync)}
    for name in names:
        keras.utils.set_random_seed(0)  # the same initial weights everywhere
        x, y = _data(name)
        steps = []

        def on_step(step, logs, steps=steps):
            steps.append(step)
            time.sleep(step_delay)

        model, logs = distribute.fit_multi_worker(
            {"mlp": _mlp, "gpt": _gpt}[name],
            x,
            y,
            global_batch_size=GLOBAL_BATCH,
            epochs=2,
            strategy=strategy,
            checkpoint_dir=(
                os.path.join(checkpoint_dir, name) if checkpoint_dir else None
            ),
            on_step=on_step,
        )
        for i, w in enumerate(model.get_weights()):
            results[f"{name}/w{i}"] = w
        results[f"{name}/first_step"] = np.asarray(steps[0] if steps else -1)
        results[f"{name}/last_step"] = np.asarray(steps[-1] if steps else -1)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--single", action="store_true")
    parser.add_argument("--models", default="mlp,gpt")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--step-delay", type=float, default=0.0)
    args = parser.parse_args()
    if args.single:
        strategy = tf.distribute.get_strategy()
    else:
        strategy = distribute.make_strategy(timeout_seconds=20)
    results = run(
        args.models.split(","), strategy, args.checkpoint_dir, args.step_delay
    )
    if distribute.worker_index() == 0:
        np.savez(args.out, **results)


if __name__ == "__main__":
    main()
