"""The perceptron and its update rule (not a gradient: variables assigned)."""

import numbers

import keras
import numpy as np
from keras import ops

from refnn import activations
from refnn.distribute import (
    all_reduce_sum,
    num_replicas_in_sync,
    stateless_step,
)
from refnn.models._explicit import (
    ExplicitTrainingMixin,
)
from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin


class _BoundaryRecorder(keras.callbacks.Callback):
    """Copies the perceptron's (w, b) into `model.boundaries_` per epoch."""

    def __init__(self, perceptron):
        super().__init__()
        self._perceptron = perceptron

    def on_train_begin(self, logs=None):
        self._perceptron.boundaries_ = []

    def on_epoch_end(self, epoch, logs=None):
        p = self._perceptron
        w = keras.ops.convert_to_numpy(p.kernel).copy()
        b = float(keras.ops.convert_to_numpy(p.bias))
        p.boundaries_.append((w, b))


@keras.saving.register_keras_serializable(package="refnn")
class Perceptron(ModelMixin, ExplicitTrainingMixin, keras.Model):
    """The seed's perceptron: ŷ = step(w·x + b), trained by its update rule.

    For a point x with label y ∈ {0, 1} and prediction ŷ:

    - correctly classified (y − ŷ = 0): nothing changes;
    - label 1 predicted 0 (y − ŷ = 1): w ← w + αx, b ← b + α;
    - label 0 predicted 1 (y − ŷ = −1): w ← w − αx, b ← b − α.

    That is w ← w + α(y − ŷ)x, b ← b + α(y − ŷ). The rule is applied by
    assigning the variables in `train_step`; no optimizer or loss is used.
    With `batch_size=1` and `shuffle=False`, `fit` visits the points in order
    and updates after each one: the online algorithm of the seed. With a
    larger batch, the update is the **sum** of the updates of the batch's
    misclassified points, all computed with the weights at the start of the
    batch (so a batch of one point is exactly the seed rule, and the batch
    update is the sum of what the online rule would do from the same start).
    Optional `sample_weight` scales each point's update.

    `fit` reports `accuracy` (fraction of the epoch's points classified
    correctly *before* the update of their batch, or of their own update
    with `update="sequential"`) and `mistakes` (their number). With
    `record_boundaries=True`, `fit` adds a callback that stores
    a copy of `(w, b)` after each epoch in `boundaries_` (a list of
    `(numpy array (input_dim,), float)`, reset at each `fit`), which is what
    the seed's dotted progression lines are drawn from.

    Scale. Under a `tf.distribute` strategy each replica computes the
    update of its shard's misclassified points and the replicas' updates
    are summed (all-reduce) before w and b are assigned, so every copy gets
    the update of the whole global batch: the same weights, mistakes and
    accuracy as on one device (`update="sequential"` visits points one
    after another and so needs one replica). The score is computed in
    float32 under a mixed policy (`head_dtype`). Under the JAX backend
    the same step runs as the trainer's stateless `train_step(state,
    data)`.

    Online training with `batch_size=1` runs one tiny step per point, so
    Keras's per-step overhead dominates: `update="sequential"` with a large
    batch (same updates, one compiled loop per batch) or
    `compile(steps_per_execution=100)` is much faster.

    Args:
        learning_rate: α, a positive number.
        record_boundaries: whether `fit` records `(w, b)` after each epoch.
        update: `"batch"` (default): the summed update from the weights at
            the start of the batch, as above. `"sequential"`: the points of
            each batch are visited one after another with the online rule
            inside one compiled loop, so any `batch_size` gives exactly the
            updates of `batch_size=1` (with `shuffle=False`), much faster.
        kernel_initializer: initializer of w (default zeros, as sklearn).
        bias_initializer: initializer of b (default zeros).
        head_dtype: dtype of the score's computation; None (default) is
            float32 under a mixed policy and the model's dtype otherwise.
        **kwargs: `keras.Model` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: features, shape `(batch_size, input_dim)`.

    Returns:
        ŷ as floats in {0, 1}, shape `(batch_size, 1)` (like a
        `keras.layers.Dense(1)` followed by a step).

    Example:

    >>> import numpy as np
    >>> x = np.array([[2.0, 1.0], [-1.0, -2.0]], "float32")
    >>> y = np.array([1.0, 0.0], "float32")
    >>> model = Perceptron(learning_rate=0.1)
    >>> model.compile()
    >>> _ = model.fit(x, y, batch_size=1, epochs=3, shuffle=False, verbose=0)
    >>> model.predict(x, verbose=0)[:, 0].tolist()
    [1.0, 0.0]

    References:
        seed 002, "Perceptron Algorithm" (both sections), "Gradient Descent"
        (w_i ← w_i + α(y − ŷ)x_i).
    """

    def __init__(
        self,
        learning_rate=1.0,
        record_boundaries=True,
        update="batch",
        kernel_initializer="zeros",
        bias_initializer="zeros",
        head_dtype=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (
            isinstance(learning_rate, bool)
            or not isinstance(learning_rate, numbers.Real)
            or not learning_rate > 0
        ):
            raise ValueError(
                "learning_rate must be a positive number, got "
                f"{learning_rate!r}."
            )
        if not isinstance(record_boundaries, bool):
            raise TypeError(
                f"record_boundaries must be a bool, got {record_boundaries!r}."
            )
        if update not in ("batch", "sequential"):
            raise ValueError(
                f"update must be 'batch' or 'sequential', got {update!r}."
            )
        self.learning_rate = float(learning_rate)
        self.head_dtype = check_head_dtype(head_dtype)
        # Variables are cast explicitly (hidden layers to the compute
        # dtype, the output to `head_dtype`), never rounded by autocast.
        self.autocast = False
        self.update = update
        self.record_boundaries = record_boundaries
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.boundaries_ = []
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        self.mistakes_tracker = keras.metrics.Sum(name="mistakes")

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "Perceptron expects inputs of shape (batch_size, input_dim) "
                f"with a known input_dim, got input_shape={input_shape}."
            )
        self.input_dim = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(self.input_dim,),
            initializer=self.kernel_initializer,
            name="kernel",
            aggregation="only_first_replica",  # replicas assign the same sum
        )
        self.bias = self.add_weight(
            shape=(),
            initializer=self.bias_initializer,
            name="bias",
            aggregation="only_first_replica",
        )

    def score(self, inputs):
        """The linear score w·x + b, shape `(batch_size,)`."""
        x = ops.cast(inputs, self._dtype())
        return ops.matmul(x, ops.cast(self.kernel, x.dtype)) + ops.cast(
            self.bias, x.dtype
        )

    def _dtype(self):
        """The dtype the score and the rule compute in."""
        return head_policy(self, self.head_dtype).compute_dtype

    def call(self, inputs):
        return activations.step(self.score(inputs))[:, None]  # (B, 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    # -- training: the seed's rule --------------------------------------

    @property
    def metrics(self):
        return [self.accuracy_tracker, self.mistakes_tracker]

    def _errors(self, x, y):
        """y − ŷ per point in {−1, 0, 1}, computed with the current weights."""
        y = ops.reshape(ops.cast(y, x.dtype), (-1,))  # (B,)
        y_hat = ops.reshape(self(x), (-1,))  # builds on first call, (B,)
        return y - y_hat

    def _update_metrics(self, error, sample_weight):
        wrong = ops.abs(error)
        self.accuracy_tracker.update_state(
            1.0 - wrong, sample_weight=sample_weight
        )
        self.mistakes_tracker.update_state(ops.sum(wrong))
        return {m.name: m.result() for m in self.metrics}

    def _sequential_step(self, x, y, sample_weight):
        """The online rule over the batch's points in order, in one loop."""
        y = ops.reshape(ops.cast(y, x.dtype), (-1,))  # (B,)
        if sample_weight is None:
            s = ops.ones_like(y)
        else:
            s = ops.reshape(ops.cast(sample_weight, x.dtype), (-1,))
        alpha = self.learning_rate

        def visit(i, state):
            w, b, wrong, wrong_weighted = state
            x_i = ops.take(x, i, axis=0)  # (D,)
            y_hat = activations.step(ops.sum(x_i * w) + b)
            error = ops.take(y, i) - y_hat  # y − ŷ ∈ {−1, 0, 1}
            s_i = ops.take(s, i)
            w = w + alpha * s_i * error * x_i  # w ← w + α(y − ŷ)x
            b = b + alpha * s_i * error  # b ← b + α(y − ŷ)
            miss = ops.abs(error)
            return w, b, wrong + miss, wrong_weighted + s_i * miss

        zero = ops.zeros((), x.dtype)
        start = (
            ops.cast(ops.convert_to_tensor(self.kernel), x.dtype),
            ops.cast(ops.convert_to_tensor(self.bias), x.dtype),
            zero,
            zero,
        )
        w, b, wrong, wrong_weighted = ops.fori_loop(
            0, ops.shape(x)[0], visit, start
        )
        self.kernel.assign(ops.cast(w, self.kernel.dtype))
        self.bias.assign(ops.cast(b, self.bias.dtype))
        total = ops.sum(s)
        accuracy = 1.0 - ops.divide_no_nan(wrong_weighted, total)
        self.accuracy_tracker.update_state(
            ops.reshape(accuracy, (1,)), sample_weight=ops.reshape(total, (1,))
        )
        self.mistakes_tracker.update_state(wrong)
        return {m.name: m.result() for m in self.metrics}

    def _use_compile_loss(self, loss):
        raise ValueError(
            "Perceptron is trained by its update rule, not by a loss: "
            f"compile() takes no loss, got loss={loss!r}."
        )

    def _explicit_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, self._dtype())
        if not self.built:
            self(x)  # creates w and b on the first trace
        if self.update == "sequential":
            if num_replicas_in_sync() > 1:
                raise ValueError(
                    "update='sequential' visits the points one after "
                    "another and needs one replica; use update='batch' "
                    f"with {num_replicas_in_sync()} replicas."
                )
            return self._sequential_step(x, y, sample_weight)
        error = self._errors(x, y)  # y − ŷ, (B,)
        step = (
            error
            if sample_weight is None
            else error * ops.reshape(ops.cast(sample_weight, x.dtype), (-1,))
        )
        alpha = self.learning_rate
        # w ← w + α Σ_i (y_i − ŷ_i) x_i ;  b ← b + α Σ_i (y_i − ŷ_i)
        # summed over the replicas' shards: the global batch's update
        delta_w = all_reduce_sum(alpha * ops.matmul(step, x))  # (D,)
        delta_b = all_reduce_sum(alpha * ops.sum(step))
        self.kernel.assign_add(ops.cast(delta_w, self.kernel.dtype))
        self.bias.assign_add(ops.cast(delta_b, self.bias.dtype))
        return self._update_metrics(error, sample_weight)

    def test_step(self, *args):
        if len(args) == 2:  # JAX: (state, data)
            return stateless_step(self, self._test_step, *args)
        return self._test_step(*args)

    def _test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, self._dtype())
        return self._update_metrics(self._errors(x, y), sample_weight)

    def fit(self, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`, compiling first if needed and recording (w, b).

        Accepts everything `keras.Model.fit` does. The rule uses no
        optimizer or loss, so `compile()` needs no arguments (an optimizer
        given is unused; a loss raises); an uncompiled model is compiled with
        `compile()` automatically.
        """
        y = kwargs.get("y", args[1] if len(args) > 1 else None)
        if isinstance(y, (np.ndarray, list)):
            values = np.unique(np.asarray(y))
            if not np.all(np.isin(values, (0, 1))):
                raise ValueError(
                    "Perceptron labels must be 0 or 1, got the values "
                    f"{values[:10].tolist()}."
                )
        if not self.compiled:
            self.compile()
        callbacks = list(callbacks or [])
        if self.record_boundaries:
            callbacks.append(_BoundaryRecorder(self))
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def get_compile_config(self):
        """None: the rule has no optimizer state worth saving.

        A reloaded perceptron is compiled again by `fit` when needed.
        """
        return None

    # -- serving --------------------------------------------------------

    def serving_signatures(self):
        """`serving_default`: `features` → `label` (int32), `score`."""
        return {
            "serving_default": (
                self.serve,
                {"features": ((None, self.input_dim), "float32")},
            )
        }

    def serve(self, features):
        score = self.score(features)
        return {
            "label": ops.cast(activations.step(score), "int32"),
            "score": score,
        }

    def get_config(self):
        return {
            **super().get_config(),
            "learning_rate": self.learning_rate,
            "record_boundaries": self.record_boundaries,
            "update": self.update,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "bias_initializer": keras.initializers.serialize(
                self.bias_initializer
            ),
            "head_dtype": self.head_dtype,
        }
