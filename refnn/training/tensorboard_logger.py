"""Weight histograms and the model graph for TensorBoard.

`keras.callbacks.TensorBoard` writes the scalars (loss, metrics, learning
rate) but draws histograms only for weights of `model.layers` (refnn's
explicit-gradient models hold theirs directly) and writes no graph under
Keras 3. `TensorBoardLogger` adds both, under the same ``train`` run.
"""

import os

import keras
import tensorflow as tf


class TensorBoardLogger(keras.callbacks.Callback):
    """Writes every weight's histogram per epoch and the inference graph.

    Args:
        log_dir: the TensorBoard log folder (as given to
            `keras.callbacks.TensorBoard`); events go to ``log_dir/train``.
        input_spec: a `tf.TensorSpec` of the model's input, to trace the
            graph of ``model(x, training=False)``.

    Example:

    ```python
    model.fit(ds, epochs=5, callbacks=[
        keras.callbacks.TensorBoard("logs"),
        TensorBoardLogger("logs", tf.TensorSpec((None, 64), "float32")),
    ])
    ```
    """

    def __init__(self, log_dir, input_spec):
        super().__init__()
        if not isinstance(input_spec, tf.TensorSpec):
            raise TypeError(
                f"input_spec must be a tf.TensorSpec, got {input_spec!r}."
            )
        self.log_dir = os.fspath(log_dir)
        self.input_spec = input_spec
        self._writer = None

    def on_train_begin(self, logs=None):
        path = os.path.join(self.log_dir, "train")
        self._writer = tf.summary.create_file_writer(path)
        model = self.model
        forward = tf.function(lambda x: model(x, training=False))
        graph = forward.get_concrete_function(self.input_spec).graph
        with self._writer.as_default():
            tf.summary.graph(graph)
        self._writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        with self._writer.as_default():
            for weight in self.model.weights:
                tf.summary.histogram(
                    f"{weight.path}/histogram", weight, step=epoch
                )
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
