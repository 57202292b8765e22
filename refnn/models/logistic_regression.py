"""Logistic (and softmax) regression trained with the hand-derived gradient."""

import numbers

import keras
import numpy as np
from keras import ops

from refnn import activations, losses
from refnn.distribute import gradient_scale
from refnn.models._explicit import (
    ExplicitTrainingMixin,
    resolve_loss,
)
from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin


@keras.saving.register_keras_serializable(package="refnn")
class LogisticRegression(ModelMixin, ExplicitTrainingMixin, keras.Model):
    """Logistic regression ŷ = σ(Wx + b), or softmax regression for K > 2.

    The error is the cross-entropy (the seed's log-loss), averaged over the
    batch: E = −1/m Σ [y ln ŷ + (1 − y) ln(1 − ŷ)] (binary) or
    E = −1/m Σ_i Σ_j y_ij ln ŷ_ij (softmax with one-hot y). Its gradient,
    derived by hand in the seed, is

        ∂E/∂w_j = −1/m Σ_i (y_i − ŷ_i) x_ij,    ∂E/∂b = −1/m Σ_i (y_i − ŷ_i)

    (for softmax the same with one-hot y, one column per class). `train_step`
    computes exactly this (no autodiff) and hands it to the compiled
    optimizer (`optimizer.apply`), so SGD (the seed's w ← w + α(y − ŷ)x
    step), momentum, Adam and learning-rate schedules all apply. With
    `sample_weight` s, each term is weighted by s_i and the sum is still
    divided by the batch size, as keras's `"sum_over_batch_size"` does.

    The loss that `fit` reports is this cross-entropy (computed with
    `refnn.losses`). `compile(loss=...)` accepts the cross-entropy the
    gradient is derived for (`"binary_crossentropy"` for K = 2,
    `"categorical_crossentropy"` or `"sparse_categorical_crossentropy"`
    for K > 2, or their refnn/keras objects, on probabilities, averaged
    over the batch) or None; any other loss raises at `compile()`.
    Compiled metrics (e.g. `"accuracy"`) are updated as usual.

    Scale: the model is one output layer, so it computes in float32 under
    a mixed policy (`head_dtype`). Under a `tf.distribute` strategy each
    replica's gradient is also divided by the number of replicas (the
    optimizer sums them), and with a `LossScaleOptimizer` it is multiplied
    by the loss scale (the optimizer divides it out), so training on N
    devices or under `mixed_float16` gives float32's single-device steps.
    Under the JAX backend the same step runs as the trainer's stateless
    `train_step(state, data)`.

    Args:
        num_classes: number of classes K ≥ 2. K = 2 gives one sigmoid output
            (probability of class 1), K > 2 gives K softmax outputs.
        kernel_initializer: initializer of W (default zeros).
        bias_initializer: initializer of b (default zeros).
        head_dtype: dtype of the computation; None (default) is float32
            under a mixed policy and the model's dtype otherwise.
        **kwargs: `keras.Model` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: features, shape `(batch_size, input_dim)`.

    Returns:
        Probabilities, shape `(batch_size, 1)` for K = 2 (P(y = 1)) or
        `(batch_size, num_classes)` for K > 2.

    Labels for `fit`: integer class ids of shape `(batch_size,)` or
    `(batch_size, 1)`; for K > 2 one-hot rows `(batch_size, K)` too.

    Example:

    >>> import numpy as np
    >>> x = np.array([[2.0, 1.0], [-1.0, -2.0]], "float32")
    >>> y = np.array([1, 0])
    >>> model = LogisticRegression()
    >>> model.compile(keras.optimizers.SGD(1.0), metrics=["accuracy"])
    >>> _ = model.fit(x, y, epochs=1, verbose=0)  # one full-batch step
    >>> # From w = 0, b = 0 (so ŷ = 0.5): w ← w + α/m Σ (y − ŷ) x
    >>> # = (0.5 (2, 1) − 0.5 (−1, −2)) / 2 = (0.75, 0.75); b stays 0.
    >>> w, b = model.get_weights()
    >>> w.ravel().tolist(), b.tolist()
    ([0.75, 0.75], [0.0])
    >>> model.predict(x, verbose=0).round().ravel().tolist()
    [1.0, 0.0]

    References:
        seed 002, "Logistic Regression", "Gradient calculation", "Gradient
        descent step", "Logistic Regression Algorithm", "Multi-Class
        Classification and Softmax", "Multi-Class Cross-Entropy".
    """

    def __init__(
        self,
        num_classes=2,
        kernel_initializer="zeros",
        bias_initializer="zeros",
        head_dtype=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, numbers.Integral)
            or num_classes < 2
        ):
            raise ValueError(
                f"num_classes must be an integer >= 2, got {num_classes!r}."
            )
        self.num_classes = int(num_classes)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.head_dtype = check_head_dtype(head_dtype)
        # Variables are cast explicitly (hidden layers to the compute
        # dtype, the output to `head_dtype`), never rounded by autocast.
        self.autocast = False
        self.units = 1 if self.num_classes == 2 else self.num_classes
        if self.units == 1:
            self._activation = activations.sigmoid
            self._error_fn = losses.BinaryCrossEntropy()
        else:
            self._activation = activations.softmax
            self._error_fn = losses.CategoricalCrossEntropy()

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "LogisticRegression expects inputs of shape (batch_size, "
                f"input_dim) with a known input_dim, got {input_shape}."
            )
        self.input_dim = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(self.input_dim, self.units),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units,), initializer=self.bias_initializer, name="bias"
        )

    def logits(self, inputs):
        """The scores z = xW + b, shape `(batch_size, units)`."""
        dtype = head_policy(self, self.head_dtype).compute_dtype
        x = ops.cast(inputs, dtype)
        kernel, bias = ops.cast(self.kernel, dtype), ops.cast(self.bias, dtype)
        return ops.matmul(x, kernel) + bias

    def call(self, inputs):
        return self._activation(self.logits(inputs))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    # -- the error function and its hand-derived gradient ---------------

    def targets(self, y, dtype="float32"):
        """Labels as the float target matrix t, shape `(batch_size, units)`.

        Class ids become one-hot rows for softmax; for K = 2, t = y.
        """
        y = ops.convert_to_tensor(y)
        if self.units > 1 and len(y.shape) == 2 and y.shape[-1] == self.units:
            return ops.cast(y, dtype)  # already one-hot (B, K)
        if len(y.shape) == 2 and y.shape[-1] == 1:
            y = ops.squeeze(y, -1)
        if len(y.shape) != 1:
            raise ValueError(
                "labels must be class ids of shape (batch_size,) or "
                f"(batch_size, 1){' or one-hot rows' if self.units > 1 else ''}"
                f", got shape {tuple(y.shape)}."
            )
        if self.units == 1:
            return ops.cast(y, dtype)[:, None]  # (B, 1)
        return ops.one_hot(ops.cast(y, "int32"), self.units, dtype=dtype)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The cross-entropy of `y_pred` (plus any layer losses)."""
        t = self.targets(y, y_pred.dtype)
        loss = self._error_fn(t, y_pred, sample_weight=sample_weight)
        for extra in self.losses:
            loss = loss + ops.cast(extra, loss.dtype)
        return loss

    def _gradients(self, x, y, y_pred, sample_weight=None):
        t = self.targets(y, y_pred.dtype)  # (B, K)
        error = t - y_pred  # y − ŷ, (B, K)
        if sample_weight is not None:
            s = ops.reshape(ops.cast(sample_weight, error.dtype), (-1, 1))
            error = error * s
        m = ops.cast(ops.shape(x)[0], error.dtype)
        grad_w = -ops.matmul(ops.transpose(x), error) / m  # (D, K)
        grad_b = -ops.sum(error, axis=0) / m  # (K,)
        return [grad_w, grad_b]

    def compute_gradients(self, x, y, sample_weight=None):
        """∂E/∂W = −1/m Σ (y − ŷ) x and ∂E/∂b = −1/m Σ (y − ŷ), by hand.

        Args:
            x: features, shape `(batch_size, input_dim)`.
            y: labels (class ids, or one-hot rows for K > 2).
            sample_weight: optional weights, shape `(batch_size,)`.

        Returns:
            `[grad_kernel, grad_bias]`, in the order of
            `trainable_variables`.
        """
        y_pred = self(x, training=True)
        x = ops.cast(x, y_pred.dtype)
        return self._gradients(x, y, y_pred, sample_weight)

    def _explicit_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)  # forward: ŷ (in the head dtype)
        x = ops.cast(x, y_pred.dtype)
        loss = self.compute_loss(x, y, y_pred, sample_weight)  # error E
        grads = self._gradients(x, y, y_pred, sample_weight)  # ∂E/∂W, ∂E/∂b
        # × loss scale (LossScaleOptimizer) / number of replicas (summed)
        scale = ops.cast(gradient_scale(self.optimizer), y_pred.dtype)
        grads = [
            ops.cast(g * scale, v.dtype)
            for g, v in zip(grads, self.trainable_variables)
        ]
        self._apply_gradients(grads)  # update
        self._track_loss(loss, ops.shape(x)[0])
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _use_compile_loss(self, loss):
        if self.units == 1:
            kinds = ("binary_crossentropy",)
        else:
            kinds = (
                "categorical_crossentropy",
                "sparse_categorical_crossentropy",
            )
        reductions = ("sum_over_batch_size", "mean")
        resolve_loss(loss, kinds, reductions, type(self).__name__)

    def fit(self, *args, **kwargs):
        """`keras.Model.fit`, checking numpy labels are valid class ids."""
        y = kwargs.get("y", args[1] if len(args) > 1 else None)
        if isinstance(y, (np.ndarray, list)):
            y = np.asarray(y)
            one_hot = self.units > 1 and y.ndim == 2 and y.shape[-1] > 1
            values = np.unique(y)
            if not one_hot and not np.all(
                np.isin(values, np.arange(self.num_classes))
            ):
                raise ValueError(
                    f"labels must be class ids in [0, {self.num_classes}), "
                    f"got the values {values[:10].tolist()}."
                )
        return super().fit(*args, **kwargs)

    # -- serving --------------------------------------------------------

    def serving_signatures(self):
        """`serving_default`: `features` → `probabilities`, `label` (int32)."""
        return {
            "serving_default": (
                self.serve,
                {"features": ((None, self.input_dim), "float32")},
            )
        }

    def serve(self, features):
        probs = self(features, training=False)
        if self.units == 1:
            label = ops.cast(probs[:, 0] >= 0.5, "int32")
        else:
            label = ops.cast(ops.argmax(probs, axis=-1), "int32")
        return {"probabilities": probs, "label": label}

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "bias_initializer": keras.initializers.serialize(
                self.bias_initializer
            ),
            "head_dtype": self.head_dtype,
        }
