"""What the explicit-gradient models share: loss from `compile`, the JAX
trainer's stateless step, the replica-aware loss metric."""

import keras

from refnn.distribute import num_replicas_in_sync, stateless_step

# Loss names and the refnn.losses class of each.
LOSS_CLASSES = {
    "mse": "MeanSquaredError",
    "sse": "SumSquaredError",
    "binary_crossentropy": "BinaryCrossEntropy",
    "categorical_crossentropy": "CategoricalCrossEntropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossEntropy",
}
# Class name (refnn or keras spelling) -> the loss kind.
_KIND_OF_CLASS = {
    "MeanSquaredError": "mse",
    "SumSquaredError": "sse",
    "BinaryCrossEntropy": "binary_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
    "CategoricalCrossEntropy": "categorical_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossEntropy": "sparse_categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
}


def resolve_loss(loss, kinds, reductions, owner):
    """Returns `(loss_object, kind)` for a loss name or loss object.

    Args:
        loss: a name from `kinds`, or a refnn/keras loss object of one.
        kinds: the loss kinds whose gradient `owner` derives by hand.
        reductions: the batch reductions `owner` derives.
        owner: the model's name, for the error messages.
    """
    from refnn import losses as refnn_losses

    supported = f"{list(kinds)} (names, or their refnn.losses/keras.losses"
    supported += " objects)"
    if isinstance(loss, str):
        if loss not in kinds:
            raise ValueError(
                f"{owner} derives its gradient for the losses {supported}; "
                f"got loss={loss!r}."
            )
        return getattr(refnn_losses, LOSS_CLASSES[loss])(), loss
    if isinstance(loss, dict):
        loss = keras.losses.deserialize(loss)
    kind = _KIND_OF_CLASS.get(type(loss).__name__)
    if kind not in kinds or not isinstance(loss, keras.losses.Loss):
        raise ValueError(
            f"{owner} derives its gradient for the losses {supported}; "
            f"got loss={loss!r}."
        )
    reduction = getattr(loss, "reduction", None)
    if reduction not in reductions:
        raise ValueError(
            f"{owner}'s hand-derived gradient needs a loss reduction in "
            f"{tuple(reductions)}, got reduction={reduction!r}."
        )
    config = loss.get_config()
    if config.get("from_logits") or config.get("label_smoothing"):
        raise ValueError(
            f"{owner}'s hand-derived gradient needs a loss on probabilities "
            f"without label smoothing, got loss={loss!r} with config "
            f"{config}."
        )
    return loss, kind


class ExplicitTrainingMixin:
    """`train_step` for both backends around a stateful `_explicit_step`.

    TensorFlow calls `train_step(data)`; JAX's stateless trainer calls
    `train_step(state, data)` and gets `(logs, new_state)` back from the
    same step run in a `keras.StatelessScope`.

    `compile(loss=...)` hands the loss to `_use_compile_loss`, which raises
    for a loss whose gradient the model does not derive; the loss is kept
    in the compile config so a saved model reloads with it.
    """

    _compiled_loss = None

    def _use_compile_loss(self, loss):
        raise NotImplementedError

    def compile(self, optimizer="rmsprop", loss=None, **kwargs):
        """`keras.Model.compile`, with a loss the gradient is derived for.

        Args:
            optimizer: as for `keras.Model.compile`.
            loss: None (the constructor's loss), or a loss whose gradient
                the model derives by hand (see the class docstring); any
                other raises here, naming the supported ones.
            **kwargs: the other `keras.Model.compile` arguments.
        """
        if loss is not None:
            self._use_compile_loss(loss)
        self._compiled_loss = loss
        super().compile(optimizer=optimizer, **kwargs)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config and self._compiled_loss is not None:
            config["loss"] = keras.saving.serialize_keras_object(
                self._compiled_loss
            )
        return config

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def train_step(self, *args):
        if len(args) == 2:  # JAX: (state, data)
            return stateless_step(self, self._explicit_step, *args)
        return self._explicit_step(*args)

    def _apply_gradients(self, grads):
        """`optimizer.apply`, or under JAX its `stateless_apply`.

        The JAX step runs in a `keras.StatelessScope`: the optimizer's
        stateless update (which a `LossScaleOptimizer` needs under JAX:
        its stateful `apply` assigns inside a traced `cond`) is computed
        from the scope's values and assigned back into the scope.
        """
        variables = self.trainable_variables
        if keras.backend.backend() != "jax":
            self.optimizer.apply(grads, variables)
            return
        optimizer_variables = self.optimizer.variables
        new_values, new_optimizer_values = self.optimizer.stateless_apply(
            [v.value for v in optimizer_variables],
            grads,
            [v.value for v in variables],
        )
        for variable, value in zip(variables, new_values):
            variable.assign(value)
        for variable, value in zip(optimizer_variables, new_optimizer_values):
            variable.assign(value)

    def _track_loss(self, loss, batch_size):
        """Updates the `loss` metric with the loss of the global batch.

        `loss` is this replica's loss as Keras's losses return it (divided
        by the number of replicas); the metric averages the replicas.
        """
        loss = loss * float(num_replicas_in_sync())
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss, sample_weight=batch_size)
