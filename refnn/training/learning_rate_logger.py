"""Callback that records the optimizer's learning rate in `History`."""

import keras
import numpy as np


class LearningRateLogger(keras.callbacks.Callback):
    """Writes the current learning rate into `logs["learning_rate"]`.

    At the end of every epoch it reads `model.optimizer.learning_rate`, which
    for a `LearningRateSchedule` is the schedule evaluated at the optimizer's
    `iterations` counter, i.e. the rate the *next* update will use. Because
    Keras runs its `History` callback last, the value lands in
    `history.history["learning_rate"]`, one entry per epoch.

    Example:

    ```python
    model.compile(optimizer=keras.optimizers.SGD(InverseSqrtDecay(0.1)), ...)
    history = model.fit(x, y, epochs=3, callbacks=[LearningRateLogger()])
    history.history["learning_rate"]  # three floats, decreasing
    ```

    References:
        seeds/002 "Learning Rate Decay".
    """

    def current_learning_rate(self):
        """Returns the optimizer's current learning rate as a Python float."""
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            raise ValueError(
                "LearningRateLogger needs a compiled model with an optimizer, "
                f"got optimizer={optimizer!r}."
            )
        return float(
            np.asarray(keras.ops.convert_to_numpy(optimizer.learning_rate))
        )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.current_learning_rate()
