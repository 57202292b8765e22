"""Callback: train the new head first, then fine-tune the whole network."""

import keras

from refnn.training.freeze import freeze, resolve_layer_index, unfreeze


class FreezeSchedule(keras.callbacks.Callback):
    """Freezes `model.layers[0 .. up_to]` for `epochs` epochs, then unfreezes.

    Keras reads `trainable_variables` (and a `BatchNormalization` layer's
    training mode) when it traces the train function, so flipping
    `layer.trainable` inside `fit` has no effect by itself. This callback
    re-traces the train function (`model.make_train_function(force=True)`)
    each time it changes the flags, so the change takes effect at the next
    step — no re-compile, and the optimizer keeps its state.

    Compile the model with every layer trainable (the usual case: compile,
    then `fit(..., callbacks=[FreezeSchedule(...)])`); the callback builds
    the optimizer for all the weights before freezing, so it can update them
    after unfreezing. If
    training ends inside the frozen phase the layers are unfrozen at the end,
    back to the state the model was compiled with.

    Args:
        up_to: name or index of the last layer to freeze.
        epochs: number of epochs (≥ 0) to keep them frozen.
        fine_tune_learning_rate: optional learning rate set on the optimizer
            when the layers are unfrozen (a smaller rate is customary).

    Example:

    ```python
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=10, callbacks=[FreezeSchedule("features", 3)])
    ```

    References:
        seeds/002 "Transfer Learning" (the four cases).
    """

    def __init__(self, up_to, epochs, fine_tune_learning_rate=None):
        super().__init__()
        if isinstance(epochs, bool) or not isinstance(epochs, int):
            raise TypeError(f"epochs must be an integer, got {epochs!r}.")
        if epochs < 0:
            raise ValueError(f"epochs must be non-negative, got {epochs}.")
        if fine_tune_learning_rate is not None and not (
            isinstance(fine_tune_learning_rate, (int, float))
            and fine_tune_learning_rate > 0
        ):
            raise ValueError(
                "fine_tune_learning_rate must be a positive number or None, "
                f"got {fine_tune_learning_rate!r}."
            )
        self.up_to = up_to
        self.epochs = epochs
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.frozen = False
        self.frozen_layers = []

    def _retrace(self):
        self.model.make_train_function(force=True)

    def on_train_begin(self, logs=None):
        resolve_layer_index(self.model, self.up_to)  # validates up_to
        optimizer = self.model.optimizer
        if self.epochs > 0 and optimizer is not None and not optimizer.built:
            # Build the optimizer for every weight it will update after
            # unfreezing; Keras would otherwise build it lazily at the first
            # step, with the frozen weights missing.
            optimizer.build(self.model.trainable_variables)
        if self.epochs > 0:
            self.frozen_layers = freeze(self.model, self.up_to)
            self.frozen = True
            self._retrace()

    def on_epoch_begin(self, epoch, logs=None):
        if self.frozen and epoch >= self.epochs:
            unfreeze(self.model, self.up_to)
            self.frozen = False
            if self.fine_tune_learning_rate is not None:
                self.model.optimizer.learning_rate = (
                    self.fine_tune_learning_rate
                )
            self._retrace()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["frozen"] = float(self.frozen)

    def on_train_end(self, logs=None):
        if self.frozen:  # training ended inside the frozen phase
            unfreeze(self.model, self.up_to)
            self.frozen = False
            self._retrace()
