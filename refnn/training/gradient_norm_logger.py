"""Callback recording gradient norms per layer: watch gradients vanish."""

import keras
import numpy as np
import tensorflow as tf


class GradientNormLogger(keras.callbacks.Callback):
    """Records ‖∂E/∂W‖ of every weight on a fixed probe batch each epoch.

    With sigmoid units each layer multiplies the back-propagated error by
    σ′(z) ≤ 0.25, so "errors in the hidden layer are scaled down by at least
    93.75%" and the layers near the input barely learn (the vanishing
    gradient problem); large weights make the norms grow instead
    (exploding gradients). This callback makes both visible.

    Gradients come from `model.compute_gradients(x, y)` when the model has
    one (refnn's explicit-backprop models: the δ rules), otherwise from
    `tf.GradientTape` on `model.compute_loss` (TensorFlow backend). The
    forward pass runs with `training=False` by default so that probing does
    not draw dropout masks or update BatchNormalization statistics.

    Norms are stored in `self.norms` (`{weight path: [norm per epoch]}`) and
    written into the epoch logs as `grad_norm/<weight path>`, hence into
    `History`.

    Args:
        x: probe inputs (a fixed batch).
        y: probe targets.
        kernels_only: record only weights whose name contains `"kernel"`
            (skip biases, BN parameters). Defaults to `True`.
        training: the `training` flag of the probing forward pass.
        record_initial: also record the norms before the first epoch
            (stored at `self.initial`).

    Example:

    ```python
    probe = GradientNormLogger(x[:256], y[:256])
    model.fit(x, y, epochs=5, callbacks=[probe])
    probe.norms  # {"sequential/dense/kernel": [...], ...}
    ```

    References:
        seeds/002 "Backpropagation" (max sigmoid derivative 0.25) and
        "The Vanishing Gradient Problem"; seeds/001 "Vanishing and Exploding
        Gradients"; seeds/000 "Gradient-Based Optimization".
    """

    def __init__(
        self, x, y, kernels_only=True, training=False, record_initial=True
    ):
        super().__init__()
        if x is None or y is None:
            raise ValueError(
                f"x and y must be a probe batch, got x={x!r}, y={y!r}."
            )
        self.x = x
        self.y = y
        self.kernels_only = bool(kernels_only)
        self.training = bool(training)
        self.record_initial = bool(record_initial)
        self.norms = {}
        self.initial = {}

    def gradients(self):
        """Returns `{weight path: gradient}` on the probe batch."""
        model = self.model
        variables = list(model.trainable_variables)
        if hasattr(model, "compute_gradients"):
            grads = list(model.compute_gradients(self.x, self.y))
        else:
            with tf.GradientTape() as tape:
                y_pred = model(self.x, training=self.training)
                loss = model.compute_loss(
                    x=self.x, y=self.y, y_pred=y_pred, training=self.training
                )
            grads = tape.gradient(loss, variables)
        result = {}
        for variable, grad in zip(variables, grads):
            if self.kernels_only and "kernel" not in variable.name:
                continue
            if grad is None:
                grad = np.zeros(variable.shape, "float32")
            result[variable.path] = grad
        return result

    def gradient_norms(self):
        """Returns `{weight path: Frobenius norm of its gradient}`."""
        return {
            path: float(np.linalg.norm(keras.ops.convert_to_numpy(g)))
            for path, g in self.gradients().items()
        }

    def on_train_begin(self, logs=None):
        self.norms = {}
        if self.record_initial:
            self.initial = self.gradient_norms()

    def on_epoch_end(self, epoch, logs=None):
        for path, norm in self.gradient_norms().items():
            self.norms.setdefault(path, []).append(norm)
            if logs is not None:
                logs[f"grad_norm/{path}"] = norm
