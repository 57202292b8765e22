"""Early stopping that always restores the best weights."""

import keras


class EarlyStopping(keras.callbacks.EarlyStopping):
    """Stops at the seed's "Goldilocks point" and restores its weights.

    "We do gradient descent until the testing error stops decreasing and
    starts to increase. At that moment, we stop." This subclass of
    `keras.callbacks.EarlyStopping` adds two guarantees and a record:

    * with `restore_best_weights=True` the weights of the best epoch are put
      back **also when training reaches `epochs` before patience runs out**.
      (Keras 2 / `tf.keras` only restored when it stopped early — a well
      known pitfall. Keras 3.15's `on_train_end` restores in both cases;
      `tests/training/early_stopping_test.py` checks both classes so a
      regression in Keras is caught, and this class restores regardless.)
    * `restored` tells whether weights were restored, `best_epoch` (0-based)
      which epoch they come from.
    * `monitor_history` lists the monitored value of every epoch: the
      validation curve of the seed's model-complexity graph.

    Args:
        monitor: quantity to monitor. Defaults to `"val_loss"`.
        patience: epochs without improvement before stopping.
        restore_best_weights: put back the best epoch's weights at the end.
            Defaults to `True` here (Keras defaults to `False`).
        **kwargs: the other arguments of `keras.callbacks.EarlyStopping`
            (`min_delta`, `mode`, `baseline`, `start_from_epoch`, `verbose`).

    Example:

    ```python
    stop = EarlyStopping(patience=5)
    model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[stop])
    stop.best_epoch, stop.monitor_history
    ```

    References:
        seeds/002 "Early Stopping"; seeds/001 "Regularization Techniques".
    """

    def __init__(
        self,
        monitor="val_loss",
        patience=0,
        restore_best_weights=True,
        **kwargs,
    ):
        if isinstance(patience, bool) or not isinstance(patience, int):
            raise TypeError(f"patience must be an integer, got {patience!r}.")
        if patience < 0:
            raise ValueError(
                f"patience must be a non-negative integer, got {patience}."
            )
        super().__init__(
            monitor=monitor,
            patience=patience,
            restore_best_weights=restore_best_weights,
            **kwargs,
        )
        self.monitor_history = []
        self.restored = False

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.monitor_history = []
        self.restored = False

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None:
            self.monitor_history.append(float(value))
        super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self.restore_best_weights and self.best_weights is not None:
            # Idempotent: makes the restore independent of the parent's
            # version (Keras 2 skipped it when patience never ran out).
            self.model.set_weights(self.best_weights)
            self.restored = True
