"""Trains the explicit-gradient models on 1 and on 2 (logical CPU) devices.

Run as a script (logical devices must be set before TensorFlow starts):
`python mirrored_run.py OUT.npz` writes, for each model, the weights and
logs after `fit` with the default strategy and with a 2-device
`MirroredStrategy` over the same global batches.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

(cpu,) = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "models"))
import explicit_cases  # noqa: E402


def main(out_path):
    strategy = tf.distribute.MirroredStrategy(
        ["/cpu:0", "/cpu:1"],
        cross_device_ops=tf.distribute.ReductionToOneDevice(),
    )
    results = {"replicas": np.asarray(strategy.num_replicas_in_sync)}
    for name in explicit_cases.NAMES:
        init = explicit_cases.initial_weights(name)
        for tag, scope in (
            ("one", tf.distribute.get_strategy()),
            ("two", strategy),
        ):
            with scope.scope():
                model, logs = explicit_cases.train(name, init)
            for i, w in enumerate(model.get_weights()):
                results[f"{name}/{tag}/w{i}"] = w
            for key, values in logs.items():
                results[f"{name}/{tag}/log_{key}"] = np.asarray(values)
    np.savez(out_path, **results)


if __name__ == "__main__":
    main(sys.argv[1])
