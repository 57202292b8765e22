"""Multilayer perceptron trained by explicit backpropagation (the δ rules)."""

import math
import numbers

import keras
from keras import ops

from refnn import activations
from refnn.distribute import gradient_scale, num_replicas_in_sync
from refnn.models._explicit import (
    LOSS_CLASSES,
    ExplicitTrainingMixin,
    resolve_loss,
)
from refnn.models._heads import check_head_dtype, head_policy
from refnn.models.base import ModelMixin, check_labels

_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight")
# Activations with a fused Keras kernel computing the same formula (the
# refnn.activations tests prove them equal); used in the forward pass, while
# f′ always comes from `refnn.activations.derivative`.
_FUSED_FORWARD = {
    "sigmoid": keras.activations.sigmoid,
    "tanh": keras.activations.tanh,
    "relu": keras.activations.relu,
    "softmax": keras.activations.softmax,
}
# Cross-entropy losses whose output error is exactly ŷ − y with this output.
_CANONICAL_OUTPUT = {
    "binary_crossentropy": "sigmoid",
    "categorical_crossentropy": "softmax",
    "sparse_categorical_crossentropy": "softmax",
}


def _activation_name(identifier, argument):
    fn = activations.get(identifier)  # raises on unknown names
    name = activations.serialize(fn)
    if not isinstance(name, str):
        raise ValueError(
            f"{argument} must name a refnn activation, got {identifier!r}."
        )
    return name


def _forward_fn(name):
    return _FUSED_FORWARD.get(name) or activations.get(name)


def _resolve_loss(loss):
    """Returns `(loss_object, kind)` for a loss name or loss object."""
    return resolve_loss(loss, tuple(LOSS_CLASSES), _REDUCTIONS, "MLP")


def _penalty_gradient(regularizer, w):
    """∂Ω/∂w of a weight penalty: `.gradient(w)` or a keras L1/L2/L1L2."""
    if hasattr(regularizer, "gradient"):
        return regularizer.gradient(w)
    if isinstance(regularizer, keras.regularizers.L1L2):
        return regularizer.l1 * ops.sign(w) + 2.0 * regularizer.l2 * w
    if isinstance(regularizer, keras.regularizers.L1):
        return regularizer.l1 * ops.sign(w)
    if isinstance(regularizer, keras.regularizers.L2):
        return 2.0 * regularizer.l2 * w
    raise TypeError(
        "kernel_regularizer must have a gradient(w) method (see "
        "refnn.training.regularizers) or be a keras L1/L2/L1L2, got "
        f"{regularizer!r}."
    )


@keras.saving.register_keras_serializable(package="refnn")
class MLP(ModelMixin, ExplicitTrainingMixin, keras.Model):
    """Fully connected network whose gradients come from the seed's δ rules.

    Forward pass, layer by layer (seed 000 "Forward Propagation"):

        z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾,    a⁽ˡ⁾ = f(z⁽ˡ⁾),    a⁽⁰⁾ = x,  ŷ = a⁽ᴸ⁾

    Backward pass, with δ = −∂E/∂z (seed 002 "Backpropagation"):

        δᵒ = (y − ŷ) f′(zᴸ)                  squared errors
        δᵒ = y − ŷ                           sigmoid + BCE, softmax + CCE
        δʰ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ) ⊙ f′(z⁽ˡ⁾)       going back
        ∂E/∂W⁽ˡ⁾ = −a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾ + ∂Ω/∂W⁽ˡ⁾,  ∂E/∂b⁽ˡ⁾ = −Σ_batch δ⁽ˡ⁾

    so a descent step `W ← W − η ∂E/∂W` is the seed's `W ← W + ΔW` with
    `ΔW = η δ aᵀ`. No `GradientTape` is involved: `train_step` calls
    `compute_gradients` and hands the result to the optimizer.

    Loss and reduction. The loss is `compile(loss=...)`'s, as for any Keras
    model, or else the constructor's `loss`; only the losses whose δᵒ is
    derived below are accepted (any other raises at `compile()`). Per
    sample, `"sse"` is ½Σⱼ(yⱼ − ŷⱼ)², `"mse"` is the mean over outputs of
    (yⱼ − ŷⱼ)², the cross-entropies are those of `refnn.losses`. The batch
    reduction is the loss object's (`"sum_over_batch_size"` by default: the
    seed's "w = w + ηΔw/m" average over the m records of a batch; `"sum"`
    gives the plain sum). Sample weights multiply each record's δᵒ. The
    penalty `l2 · ΣW²` (the seed's λΣw², no ½; gradient 2λW) and
    `kernel_regularizer(W)` are added for every kernel (not biases).

    Speed: the forward pass uses Keras's fused sigmoid/tanh/relu/softmax
    kernels (the same formulas as `refnn.activations`); f′ always comes from
    `refnn.activations.derivative`.

    Scale. Under a `tf.distribute` strategy each replica's δᵒ is divided by
    the number of replicas as well as by its shard's size, so the summed
    replica gradients are the global batch's (training on N devices equals
    one device). Under a mixed policy the hidden layers run forward and
    backward in the compute dtype (float16/bfloat16) and the output layer
    and δᵒ in float32 (`head_dtype`); with a `LossScaleOptimizer` (what
    `compile()` gives under `mixed_float16`) δᵒ is multiplied by the loss
    scale, so every δ and gradient is scaled as autodiff of the scaled loss
    would be, and the optimizer unscales them. Under the JAX backend the
    same step runs as the trainer's stateless `train_step(state, data)`.

    Args:
        units: list of layer widths, output layer included; `[1, 1]` is the
            seed's network with one hidden unit and one output.
        activation: hidden activation name from `refnn.activations`
            (`"sigmoid"`, `"tanh"`, `"relu"`, `"leaky_relu"`, `"elu"`,
            `"selu"`, `"linear"`).
        output_activation: output activation; defaults to `activation`.
            `"softmax"` is allowed here.
        use_bias: whether layers add a bias b.
        loss: `"sse"` (½Σ, the default), `"mse"`, `"binary_crossentropy"`,
            `"categorical_crossentropy"`, `"sparse_categorical_crossentropy"`
            or the matching `refnn.losses` (or `keras.losses`) object, on
            probabilities (no `from_logits`). Cross-entropies need the
            matching output (sigmoid / softmax).
        l2: λ ≥ 0 of the penalty λΣW² on every kernel.
        kernel_regularizer: optional penalty Ω(W) on every kernel with a
            `gradient(w)` method (`refnn.training.regularizers`) or a keras
            `L1`/`L2`/`L1L2`.
        kernel_initializer: initializer of the kernels.
        bias_initializer: initializer of the biases.
        head_dtype: dtype of the output layer's computation; None (default)
            is float32 under a mixed policy and the model's dtype otherwise.
        **kwargs: passed to `keras.Model` (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor of shape `(batch_size, input_dim)`.

    Returns:
        ŷ, shape `(batch_size, units[-1])`.

    Example:

    >>> import numpy as np
    >>> model = MLP([1, 1], activation="sigmoid", use_bias=False)
    >>> model.build((None, 2))
    >>> model.set_weights([np.array([[0.4], [-0.2]]), np.array([[0.1]])])
    >>> trace = model.backprop_trace(
    ...     np.array([[0.1, 0.3]]), np.array([[1.0]]), learning_rate=0.5)
    >>> round(float(trace["y_hat"][0, 0]), 3), round(
    ...     float(trace["Delta_W"][0, 0]), 4)
    (0.512, 0.0302)

    References:
        seed 002 "Backpropagation" (worked 2-1-1 example), "Calculation of
        the derivative of the sigmoid function", "Gradient Descent with
        Squared Errors", "Mean Square Error", "Regularization"; seed 000
        "Neural Network Training: Forward Propagation", "Introduction to
        Backpropagation"; seed 001 "Backpropagation Algorithm".
    """

    def __init__(
        self,
        units,
        activation="sigmoid",
        output_activation=None,
        use_bias=True,
        loss="sse",
        l2=0.0,
        kernel_regularizer=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        head_dtype=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (
            not isinstance(units, (list, tuple))
            or not units
            or any(
                isinstance(u, bool)
                or not isinstance(u, numbers.Integral)
                or u <= 0
                for u in units
            )
        ):
            raise ValueError(
                "units must be a non-empty list of positive integers, "
                f"got {units!r}."
            )
        self.units = [int(u) for u in units]
        self.activation = _activation_name(activation, "activation")
        if self.activation in ("softmax", "step"):
            raise ValueError(
                "activation must be elementwise and differentiable for hidden "
                f"layers, got {activation!r}."
            )
        if output_activation is None:
            output_activation = self.activation
        self.output_activation = _activation_name(
            output_activation, "output_activation"
        )
        if self.output_activation == "step":
            raise ValueError(
                "output_activation must be differentiable, got "
                f"{output_activation!r}."
            )
        self.use_bias = bool(use_bias)
        self._set_loss(loss)
        self._init_loss = self.loss_function  # get_config's loss
        self.head_dtype = check_head_dtype(head_dtype)
        # Variables are cast explicitly (hidden layers to the compute
        # dtype, the output to `head_dtype`), never rounded by autocast.
        self.autocast = False
        if (
            isinstance(l2, bool)
            or not isinstance(l2, (int, float))
            or not math.isfinite(l2)
            or l2 < 0
        ):
            raise ValueError(
                f"l2 must be a non-negative finite number, got {l2!r}."
            )
        self.l2 = float(l2)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        if self.kernel_regularizer is not None:
            _penalty_gradient(self.kernel_regularizer, ops.zeros((1,)))
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self._f = _forward_fn(self.activation)
        self._f_prime = activations.derivative(self.activation)
        self._f_out = _forward_fn(self.output_activation)
        self._f_out_prime = (
            None
            if self.output_activation == "softmax"
            else activations.derivative(self.output_activation)
        )

    def _set_loss(self, loss):
        loss_function, kind = _resolve_loss(loss)
        canonical = _CANONICAL_OUTPUT.get(kind)
        if canonical and self.output_activation != canonical:
            raise ValueError(
                f"loss={kind!r} needs output_activation="
                f"{canonical!r}, got {self.output_activation!r}."
            )
        self.loss_function, self._loss_kind = loss_function, kind

    _use_compile_loss = _set_loss

    # ------------------------------------------------------------------
    # Weights

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last input dimension must be known, got {input_shape}."
            )
        self.input_dim = int(input_dim)
        self.kernels, self.biases = [], []
        fan_in = self.input_dim
        for index, width in enumerate(self.units):
            self.kernels.append(
                self.add_weight(
                    shape=(fan_in, width),  # (in, out)
                    initializer=self.kernel_initializer,
                    name=f"kernel_{index}",
                )
            )
            if self.use_bias:
                self.biases.append(
                    self.add_weight(
                        shape=(width,),
                        initializer=self.bias_initializer,
                        name=f"bias_{index}",
                    )
                )
            fan_in = width

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units[-1])

    # ------------------------------------------------------------------
    # Forward pass

    def _layer(self, index):
        """Kernel, bias (or None), f, f′ and compute dtype of layer `index`.

        Kernel and bias are cast to the dtype the layer computes in: the
        model's compute dtype, float32 (or `head_dtype`) for the output.
        """
        if index == len(self.units) - 1:
            dtype = head_policy(self, self.head_dtype).compute_dtype
            f, f_prime = self._f_out, self._f_out_prime
        else:
            dtype = self.compute_dtype
            f, f_prime = self._f, self._f_prime
        kernel = ops.cast(self.kernels[index], dtype)
        bias = ops.cast(self.biases[index], dtype) if self.use_bias else None
        return kernel, bias, f, f_prime

    def forward(self, x):
        """Forward pass keeping every layer's z (pre-activation) and a.

        Args:
            x: inputs, shape `(batch_size, input_dim)`.

        Returns:
            `(zs, activations)`: lists with z⁽¹⁾..z⁽ᴸ⁾ and a⁽⁰⁾ = x..a⁽ᴸ⁾ = ŷ.
        """
        a = ops.cast(x, self.compute_dtype)
        zs, acts = [], [a]
        for index in range(len(self.units)):
            W, b, f, _ = self._layer(index)
            a = ops.cast(a, W.dtype)  # the head computes in float32
            z = ops.matmul(a, W)  # (B, in) @ (in, out) -> (B, out)
            if b is not None:
                z = z + b
            a = f(z)
            zs.append(z)
            acts.append(a)
        return zs, acts

    def call(self, inputs):
        return self.forward(inputs)[1][-1]

    # ------------------------------------------------------------------
    # Loss

    def penalty(self):
        """The weight penalty Σₗ (λΣW⁽ˡ⁾² + Ω(W⁽ˡ⁾)) added to the loss."""
        total = ops.zeros((), dtype=self.variable_dtype)
        for W in self.kernels:
            W = ops.cast(W, total.dtype)
            if self.l2:
                total = total + self.l2 * ops.sum(ops.square(W))
            if self.kernel_regularizer is not None:
                total = total + ops.cast(self.kernel_regularizer(W), W.dtype)
        return total

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """E = loss(y, ŷ) + penalty: what `compute_gradients` differentiates.

        Under a strategy with N replicas, both terms are divided by N (as
        Keras's losses are), so the replicas' values add up to E.
        """
        if y_pred is None:
            y_pred = self(x, training=training)
        loss = self.loss_function(y, y_pred, sample_weight)
        if self.l2 or self.kernel_regularizer is not None:
            penalty = ops.cast(self.penalty(), loss.dtype)
            loss = loss + penalty / float(num_replicas_in_sync())
        return loss

    def _record_scale(self, y_hat, sample_weight):
        """Each record's weight in the batch reduction: `(B, 1)` or scalar."""
        reduction = getattr(self.loss_function, "reduction", None)
        if sample_weight is None:
            weight = ops.ones((), dtype=y_hat.dtype)  # broadcasts
        else:
            weight = ops.reshape(ops.cast(sample_weight, y_hat.dtype), (-1, 1))
        if reduction == "sum":
            return weight
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            return weight / ops.sum(weight)
        batch = ops.cast(ops.shape(y_hat)[0], y_hat.dtype)
        return weight / batch  # "sum_over_batch_size", "mean"

    # ------------------------------------------------------------------
    # Backward pass: the δ rules

    def output_delta(self, y, y_hat, z, sample_weight=None, scale=None):
        """δᵒ = −∂E/∂zᴸ for every record, scaled by its reduction weight.

        Args:
            y: targets, `(batch_size, units[-1])` (integer labels of shape
                `(batch_size,)` for the sparse cross-entropy).
            y_hat: ŷ, `(batch_size, units[-1])`.
            z: the output pre-activation zᴸ.
            sample_weight: optional `(batch_size,)` record weights.
            scale: optional factor of the whole error (loss scale over
                number of replicas, see `train_step`).

        Returns:
            δᵒ, shape `(batch_size, units[-1])`.
        """
        kind = self._loss_kind
        if kind == "sparse_categorical_crossentropy":
            labels = ops.reshape(ops.cast(y, "int32"), (-1,))
            y = ops.one_hot(labels, self.units[-1], dtype=y_hat.dtype)
        else:
            y = ops.cast(ops.reshape(y, ops.shape(y_hat)), y_hat.dtype)
        record = self._record_scale(y_hat, sample_weight)  # (B, 1)
        scale = record if scale is None else record * ops.cast(scale, y.dtype)
        if kind == "binary_crossentropy":
            # per record mean over outputs of BCE; with σ: δ = (y − ŷ) / K
            return (y - y_hat) * (scale / self.units[-1])
        if kind == "sparse_categorical_crossentropy":
            return (y - y_hat) * scale  # one-hot y: δ = y − ŷ
        if kind in _CANONICAL_OUTPUT:
            # −Σ y ln ŷ with softmax: δ = y − ŷ Σⱼyⱼ (= y − ŷ for one-hot y)
            return (y - y_hat * ops.sum(y, axis=-1, keepdims=True)) * scale
        error = y - y_hat  # −∂E/∂ŷ for ½Σ(y − ŷ)²
        if kind == "mse":
            error = error * (2.0 / self.units[-1])  # mean over outputs
        error = error * scale
        if self._f_out_prime is None:  # softmax output: vector-Jacobian
            return activations.softmax_vjp(y_hat, error)
        return error * self._f_out_prime(z, y_hat)

    def forward_backward(self, x, y, sample_weight=None, scale=None):
        """One forward and one backward pass.

        Args:
            x: inputs, `(batch_size, input_dim)`.
            y: targets (see `output_delta`).
            sample_weight: optional `(batch_size,)` record weights.
            scale: optional factor of ∂E/∂θ (the loss scale divided by the
                number of replicas in `train_step`); None is 1.

        Returns:
            `(y_hat, grads, deltas, acts)`: ŷ; ∂E/∂θ in the order of
            `trainable_variables`; δ⁽¹⁾..δ⁽ᴸ⁾; a⁽⁰⁾..a⁽ᴸ⁾.
        """
        if not self.built:
            self.build(tuple(x.shape))  # static shape: saved with the model
        zs, acts = self.forward(x)
        num_layers = len(self.units)
        deltas = [None] * num_layers
        deltas[-1] = self.output_delta(
            y, acts[-1], zs[-1], sample_weight, scale
        )
        for index in range(num_layers - 2, -1, -1):
            # δʰ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ) ⊙ f′(z⁽ˡ⁾), in the hidden compute dtype
            W_next = ops.cast(self.kernels[index + 1], zs[index].dtype)
            delta = ops.cast(deltas[index + 1], W_next.dtype)
            back = ops.matmul(delta, ops.transpose(W_next))
            deltas[index] = back * self._f_prime(zs[index], acts[index + 1])
        grads = []
        for index in range(num_layers):
            # ∂E/∂W = −a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾  (B, in)ᵀ @ (B, out) -> (in, out)
            delta = deltas[index]
            a = ops.cast(acts[index], delta.dtype)
            grad_w = -ops.matmul(ops.transpose(a), delta)
            W = self.kernels[index]
            grad_w = ops.cast(grad_w, W.dtype)
            penalty = None
            if self.l2:
                penalty = (2.0 * self.l2) * W
            if self.kernel_regularizer is not None:
                term = _penalty_gradient(self.kernel_regularizer, W)
                penalty = term if penalty is None else penalty + term
            if penalty is not None:
                if scale is not None:
                    penalty = penalty * ops.cast(scale, W.dtype)
                grad_w = grad_w + penalty
            grads.append(grad_w)
            if self.use_bias:
                bias = self.biases[index]
                grads.append(ops.cast(-ops.sum(delta, axis=0), bias.dtype))
        return acts[-1], grads, deltas, acts

    def compute_gradients(self, x, y, sample_weight=None):
        """∂E/∂θ by the δ rules, in the order of `trainable_variables`.

        Args:
            x: inputs, `(batch_size, input_dim)`.
            y: targets (see `output_delta`).
            sample_weight: optional `(batch_size,)` record weights.

        Returns:
            List of gradients, one per trainable variable, equal to
            `tf.GradientTape` on `compute_loss`.
        """
        return self.forward_backward(x, y, sample_weight)[1]

    def backprop_trace(self, x, y, learning_rate=1.0, sample_weight=None):
        """Named intermediate values of one backprop step, for teaching.

        Args:
            x: inputs, `(batch_size, input_dim)`.
            y: targets.
            learning_rate: η of the weight steps.
            sample_weight: optional record weights.

        Returns:
            Dict of tensors: for layer l = 1..L, `z{l}`, `a{l}`, `delta{l}`,
            `Delta_kernel{l}` = −η ∂E/∂W (= η aᵀδ without penalty) and
            `Delta_bias{l}`; `x`, `y_hat`. For a two-layer net also the seed's
            names `h`, `a`, `delta_o`, `delta_h`, `Delta_W` (hidden→output)
            and `Delta_w` (input→hidden).
        """
        zs, acts = self.forward(x)
        y_hat, grads, deltas, _ = self.forward_backward(x, y, sample_weight)
        per_layer = 2 if self.use_bias else 1
        trace = {"x": acts[0], "y_hat": y_hat}
        for index in range(len(self.units)):
            layer = index + 1
            trace[f"z{layer}"] = zs[index]
            trace[f"a{layer}"] = acts[layer]
            trace[f"delta{layer}"] = deltas[index]
            trace[f"Delta_kernel{layer}"] = (
                -learning_rate * grads[per_layer * index]
            )
            if self.use_bias:
                trace[f"Delta_bias{layer}"] = (
                    -learning_rate * grads[per_layer * index + 1]
                )
        if len(self.units) == 2:
            trace.update(
                h=zs[0],
                a=acts[1],
                delta_o=deltas[1],
                delta_h=deltas[0],
                Delta_W=trace["Delta_kernel2"],
                Delta_w=trace["Delta_kernel1"],
            )
        return trace

    def _explicit_step(self, data):
        """One optimizer step on the δ-rule gradients (no GradientTape).

        The gradients are multiplied by `gradient_scale`: the loss scale of
        a `LossScaleOptimizer` (which divides it out again) over the number
        of replicas (whose gradients the optimizer sums).
        """
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        scale = gradient_scale(self.optimizer)
        y_pred, grads, _, _ = self.forward_backward(x, y, sample_weight, scale)
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight
        )
        self._track_loss(loss, ops.shape(x)[0])
        self._apply_gradients(grads)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    # ------------------------------------------------------------------
    # Twin, export, config

    def to_dense_sequential(self):
        """The same network as a `keras.Sequential` of `Dense` layers.

        Returns:
            A built `keras.Sequential` with this model's weights copied in.
        """
        layers = [keras.Input((self.input_dim,))]
        for index, width in enumerate(self.units):
            last = index == len(self.units) - 1
            layers.append(
                keras.layers.Dense(
                    width,
                    activation=(
                        self.output_activation if last else self.activation
                    ),
                    use_bias=self.use_bias,
                    name=f"dense_{index}",
                )
            )
        twin = keras.Sequential(layers, name=f"{self.name}_dense")
        twin.set_weights(self.get_weights())
        return twin

    def set_weights_from_dense(self, sequential):
        """Copies the weights of an equivalent `Dense` stack into this model.

        Args:
            sequential: a built `keras.Sequential` (or model) whose layers
                are `Dense` layers with the same widths and bias setting.
        """
        dense = [
            layer
            for layer in sequential.layers
            if isinstance(layer, keras.layers.Dense)
        ]
        widths = [layer.units for layer in dense]
        if widths != self.units:
            raise ValueError(
                f"sequential must have Dense widths {self.units}, got {widths}."
            )
        values = [w for layer in dense for w in layer.get_weights()]
        if not self.built:
            self.build((None, values[0].shape[0]))
        self.set_weights(values)

    def is_classifier(self):
        """Whether the output is a probability (sigmoid or softmax)."""
        return self.output_activation in ("sigmoid", "softmax")

    def serving_signatures(self):
        """`serving_default`: `features` -> `probabilities`, `label`.

        Models with a linear (or other non-probability) output return
        `outputs` instead; a single sigmoid unit's `label` has shape
        `(batch_size,)`.
        """
        spec = {"features": ((None, self.input_dim), "float32")}
        return {"serving_default": (self.serve, spec)}

    def serve(self, features):
        """Serving endpoint: named outputs for a batch of feature rows."""
        y_hat = self(features, training=False)
        if self.output_activation == "softmax":
            return {"probabilities": y_hat, "label": ops.argmax(y_hat, axis=-1)}
        if self.output_activation == "sigmoid":
            label = ops.cast(y_hat > 0.5, "int32")
            if self.units[-1] == 1:
                label = ops.squeeze(label, axis=-1)
            return {"probabilities": y_hat, "label": label}
        return {"outputs": y_hat}

    def _check_fit_labels(self, y, name):
        """Class ids in [0, K) for sparse cross-entropy; [0, 1] targets for
        the cross-entropies on probabilities; anything for MSE/SSE."""
        if y is None or self._loss_kind in ("mse", "sse"):
            return
        sparse = self._loss_kind == "sparse_categorical_crossentropy"
        check_labels(y, name, self.units[-1] if sparse else None)

    def get_config(self):
        return {
            **super().get_config(),
            "units": list(self.units),
            "activation": self.activation,
            "output_activation": self.output_activation,
            "use_bias": self.use_bias,
            "loss": keras.losses.serialize(self._init_loss),
            "l2": self.l2,
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            )
            if self.kernel_regularizer is not None
            else None,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "bias_initializer": keras.initializers.serialize(
                self.bias_initializer
            ),
            "head_dtype": self.head_dtype,
        }
