"""SavedModel serving latency vs calling the model's `tf.function` directly.

The same trained `refnn.models.MLP` (64 -> 64 -> 10 softmax on digits) is
called at batch 1 and batch 64 three ways, in one process:

* ``tf.function``: ``tf.function(model.serve)`` with the export's input
  signature, traced once (the anchor: the model's own compiled graph);
* ``SavedModel``: the ``serving_default`` signature of the export written by
  `refnn.export.export_savedmodel` and reloaded with
  ``tf.saved_model.load`` (what TF Serving runs, minus the network);
* ``predict_on_batch``: Keras's ``model.predict_on_batch`` (for scale).

Each timed call runs the endpoint `calls` times; medians of interleaved
repeats. The ratio is ``tf_function_time / savedmodel_time`` (> 1: the
export is faster); the design target is a SavedModel within 1.2x of the
direct `tf.function`, i.e. a ratio >= 0.83. The outputs of all three are
checked equal first.

Run from the repository root::

    python benchmarks/serving_latency.py           # full
    python benchmarks/serving_latency.py --quick   # seconds-long smoke run
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402  (sets KERAS_BACKEND before keras is imported)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from refnn.data import load_digits  # noqa: E402
from refnn.export import export_savedmodel  # noqa: E402
from refnn.models import MLP  # noqa: E402


def trained_model(epochs):
    x, y = load_digits()
    model = MLP(
        units=[64, 10],
        activation="relu",
        output_activation="softmax",
        loss="sparse_categorical_crossentropy",
    )
    model.compile(keras.optimizers.Adam(0.01))
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    return model, x


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    calls = 20 if args.quick else 200
    repeats = 5 if args.quick else 9
    model, x = trained_model(epochs=1 if args.quick else 5)

    spec = tf.TensorSpec((None, 64), tf.float32, name="features")
    direct = tf.function(lambda features: model.serve(features), [spec])
    with tempfile.TemporaryDirectory() as tmp:
        path = export_savedmodel(model, "mlp_digits", base_dir=tmp)
        loaded = tf.saved_model.load(str(path))
        endpoint = loaded.signatures["serving_default"]

        rows = []
        for batch in (1, 64):
            features = tf.constant(x[:batch])
            want = direct(features)
            got = endpoint(features=features)
            np.testing.assert_allclose(
                got["probabilities"].numpy(),
                want["probabilities"].numpy(),
                atol=1e-6,
            )
            np.testing.assert_allclose(
                model.predict_on_batch(x[:batch]),
                want["probabilities"].numpy(),
                atol=1e-6,
            )

            def run_direct(features=features):
                for _ in range(calls):
                    direct(features)["label"].numpy()

            def run_saved(features=features):
                for _ in range(calls):
                    endpoint(features=features)["label"].numpy()

            def run_predict(array=x[:batch]):
                for _ in range(calls):
                    model.predict_on_batch(array)

            times = common.interleaved_medians(
                {
                    "tf.function": run_direct,
                    "SavedModel": run_saved,
                    "predict_on_batch": run_predict,
                },
                repeats=repeats,
            )
            per_call = {k: v / calls * 1e6 for k, v in times.items()}
            rows.append(
                {
                    "batch": batch,
                    "tf.function us": per_call["tf.function"],
                    "SavedModel us": per_call["SavedModel"],
                    "predict_on_batch us": per_call["predict_on_batch"],
                    "ratio tf.function / SavedModel": times["tf.function"]
                    / times["SavedModel"],
                }
            )
    print(common.machine_info())
    print(
        f"\nServing latency per call (MLP 64-64-10 on digits; {calls} calls "
        f"per timing, median of {repeats})\n"
    )
    print(common.markdown_table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
