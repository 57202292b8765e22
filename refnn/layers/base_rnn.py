"""Private bases shared by the SimpleRNN / LSTM / GRU cells and layers.

`BaseRNNCell` holds what the three cells have in common: argument checks,
the kernel / recurrent kernel / bias weights (Keras's names and layouts),
`get_config`, `get_initial_state` and a per-step `call` usable inside
`keras.layers.RNN`. A cell splits its math into

* `project_inputs(x)`: `x @ kernel + input_bias`, for one step
  `(batch_size, input_dim)` or for all steps at once
  `(sequence_length, batch_size, input_dim)`, and
* `step(zx_t, states, params, rec_mask)`: one recurrent update given the
  projected input `zx_t`, with the recurrent weights `params` read once
  per sequence by `recurrent_params()`.

`BaseRNN` is the sequence layer: it hoists the input projection out of the
time loop (one matmul over `(sequence_length * batch_size, input_dim)`),
draws dropout masks once per sequence and transposes the mask once. The
recurrence then runs

* under TensorFlow with the default activations, in `fused_rnn.py`: a
  hand-written backward pass (BPTT) whose recurrent-kernel gradient is one
  matmul over all steps, with short static sequences unrolled and the
  batch cut into independent slices that run on different cores;
* otherwise with `scan()` below (autodiff through the loop): a
  `tf.while_loop` under TensorFlow, `keras.ops.scan` under other backends.

Both paths compile with `jit_compile=True`.

References:
    seeds/002_e8e42c835faa4e59.txt, "1. Recurrent Neural Networks (RNN)".
"""

import keras
from keras import ops

from refnn.layers.fused_rnn import fused_recurrence


def scan(body, init, xs):
    """`keras.ops.scan`-like loop: `body(carry, x_t) -> (carry, y_t)`.

    `init` is a tuple of tensors, `xs` a tuple of time-major tensors, `y_t`
    a single tensor. Returns `(final_carry, ys)` with `ys` stacked along
    axis 0. Under TensorFlow this is a `tf.while_loop` over TensorArrays
    with `maximum_iterations` set (XLA needs it to compile the gradient;
    `keras.ops.scan` leaves it unset and also round-trips its carry through
    a TensorArray at every step); other backends use `keras.ops.scan`.
    """
    if keras.backend.backend() != "tensorflow":

        def scan_body(carry, x_t):
            carry, y_t = body(carry, x_t)
            return carry, y_t

        return ops.scan(scan_body, init, xs)
    import tensorflow as tf

    n = xs[0].shape[0]
    if n is None:
        n = tf.shape(xs[0])[0]
    inputs = [
        tf.TensorArray(x.dtype, size=n, element_shape=x.shape[1:]).unstack(x)
        for x in xs
    ]
    outputs = tf.TensorArray(init[0].dtype, size=n, element_shape=init[0].shape)

    def loop(t, carry, outputs):
        carry, y_t = body(carry, tuple(ta.read(t) for ta in inputs))
        return t + 1, carry, outputs.write(t, y_t)

    _, final, outputs = tf.while_loop(
        lambda t, *_: t < n,
        loop,
        (0, tuple(init), outputs),
        maximum_iterations=n,
        parallel_iterations=32,
    )
    return final, outputs.stack()


def check_units(units):
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(f"units must be a positive integer, got {units}.")
    return units


def check_rate(name, rate):
    if (
        isinstance(rate, bool)
        or not isinstance(rate, (int, float))
        or not 0.0 <= rate < 1.0
    ):
        raise ValueError(f"{name} must be a float in [0, 1), got {rate}.")
    return float(rate)


def check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {value!r}.")
    return value


class BaseRNNCell(keras.layers.Layer):
    """Shared machinery of the refnn recurrent cells (not public).

    Subclasses set `num_gates` (1, 3 or 4) and implement `step()`; they may
    override `_bias_shape()`, `_bias_initializer()`, `_input_bias()` and
    `recurrent_params()`.
    """

    num_gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.activation = keras.activations.get(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(
            recurrent_initializer
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(
            recurrent_regularizer
        )
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate(
            "recurrent_dropout", recurrent_dropout
        )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.output_size = self.units

    @property
    def state_size(self):
        return self.units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        k = self.num_gates * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, k),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, k),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _bias_shape(self):
        return (self.num_gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def _input_bias(self):
        return self.bias

    def project_inputs(self, x, weights=None):
        """`x @ kernel + input_bias` over the last axis of a 2D or 3D `x`.

        `weights`: optional `(kernel, input_bias)` tensors used instead of
        the cell's own (the fused path passes rescaled copies).
        """
        if weights is None:
            kernel = ops.convert_to_tensor(self.kernel)
            bias = self._input_bias()
        else:
            kernel, bias = weights
        if len(x.shape) != 3:
            z = ops.matmul(x, kernel)
            return z if bias is None else z + bias
        t, b = ops.shape(x)[0], ops.shape(x)[1]
        flat = ops.reshape(x, (-1, x.shape[-1]))  # (T*B, in)
        if bias is not None:
            # The bias as one more input row of ones: its gradient is then
            # part of the kernel's gradient matmul (no separate reduction
            # over all T*B rows, no separate pass to add it).
            flat = ops.concatenate([flat, ops.ones_like(flat[:, :1])], -1)
            kernel = ops.concatenate([kernel, bias[None, :]], 0)
        z = ops.matmul(flat, kernel)  # (T*B, k*units)
        return ops.reshape(z, (t, b, kernel.shape[-1]))  # (T, B, k*units)

    def recurrent_params(self):
        """Recurrent weights, read once per sequence and passed to `step`."""
        return (ops.convert_to_tensor(self.recurrent_kernel),)

    def step(self, zx, states, params, rec_mask=None):
        raise NotImplementedError

    def supports_fused(self):
        """Whether `fused_step` / `fused_step_grad` apply (default
        activations only: their derivatives are written out by hand)."""
        return False

    # Per-step gradient tensors returned by `fused_step_grad`.
    num_dz = 1
    # Under XLA, unroll the fused loop when a batch slice has at least this
    # many rows (`None`: never); see `fused_rnn.default_unroll`.
    xla_unroll_min_rows = None

    def fused_inputs(self):
        """`(project, params)` for the fused path: the input projection
        `x -> zx` and the recurrent weights; by default `project_inputs`
        and `recurrent_params` (a cell may rescale gate columns)."""
        return self.project_inputs, self.recurrent_params()

    def fused_grad_params(self, params):
        """Recurrent weights as used by the backward step (transposed)."""
        return tuple(None if p is None else ops.transpose(p) for p in params)

    def initial_states(self, batch_size):
        n = len(self.state_size) if isinstance(self.state_size, list) else 1
        return [
            ops.zeros((batch_size, self.units), dtype=self.compute_dtype)
            for _ in range(n)
        ]

    def get_initial_state(self, batch_size=None):
        states = self.initial_states(batch_size)
        return states if isinstance(self.state_size, list) else states[0]

    def call(self, inputs, states, training=None):
        """One time step (draws fresh dropout masks at every call)."""
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        if training and self.dropout > 0:
            inputs = keras.random.dropout(
                inputs, self.dropout, seed=self.seed_generator
            )
        rec_mask = None
        if training and self.recurrent_dropout > 0:
            rec_mask = keras.random.dropout(
                ops.ones_like(states[0]),
                self.recurrent_dropout,
                seed=self.seed_generator,
            )
        zx = self.project_inputs(inputs)
        new_states = self.step(zx, states, self.recurrent_params(), rec_mask)
        h = new_states[0]
        if nested or isinstance(self.state_size, list):
            return h, list(new_states)
        return h, h

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": ser(self.kernel_initializer),
            "recurrent_initializer": ser(self.recurrent_initializer),
            "bias_initializer": ser(self.bias_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "recurrent_regularizer": ser(self.recurrent_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
            "recurrent_constraint": ser(self.recurrent_constraint),
            "bias_constraint": ser(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


def _cell_getter(name):
    return lambda self: getattr(self.cell, name)


class BaseRNN(keras.layers.Layer):
    """Runs a refnn cell over a sequence, fast (not public).

    Keras semantics: masked steps carry the states through unchanged and
    output the previous output (zeros before the first unmasked step);
    `go_backwards=True` reads the sequence reversed and returns the outputs
    in that reversed order; dropout masks are drawn once per sequence.
    Unlike Keras's LSTM/GRU (which draw one recurrent-dropout mask per
    gate), one recurrent-dropout mask is shared by all gates so that the
    recurrent matmul stays fused.
    """

    cell_class = None
    cell_name = None
    cell_arg_names = ()
    # TensorFlow with the default activations: hand-written backward pass
    # (fused_rnn.py). Set to False (on the class or an instance) to use
    # autodiff through the loop instead.
    use_fused_gradient = True
    # Hand-written path only: how many independent batch slices run in
    # parallel (None: one per core, see `fused_rnn.num_chains`), and
    # whether to unroll the time loop (None: `fused_rnn.default_unroll`;
    # `unroll=True` in the constructor forces it).
    fused_chains = None
    fused_unroll = None

    def __init__(
        self,
        cell_kwargs,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        activity_regularizer=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if stateful:
            raise ValueError(
                f"stateful=True is not supported, got stateful={stateful}. "
                "Pass `initial_state=` and `return_state=True` instead."
            )
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.return_state = check_bool("return_state", return_state)
        self.go_backwards = check_bool("go_backwards", go_backwards)
        self.stateful = False
        self.unroll = check_bool("unroll", unroll)
        self.cell = self.cell_class(
            **cell_kwargs,
            dtype=self.dtype_policy,
            trainable=kwargs.get("trainable", True),
            name=self.cell_name,
        )
        self.supports_masking = True
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def __init_subclass__(cls, **kwargs):
        # Expose the cell's hyper-parameters (`layer.units`, ...) like Keras.
        super().__init_subclass__(**kwargs)
        for name in cls.cell_arg_names:
            if name not in cls.__dict__:
                setattr(cls, name, property(_cell_getter(name)))

    @property
    def state_size(self):
        size = self.cell.state_size
        return list(size) if isinstance(size, list) else [size]

    def build(self, sequences_shape, initial_state_shape=None):
        if not self.cell.built:
            self.cell.build((sequences_shape[0], sequences_shape[-1]))

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, length = sequences_shape[0], sequences_shape[1]
        units = self.cell.units
        if self.return_sequences:
            output_shape = (batch, length, units)
        else:
            output_shape = (batch, units)
        if self.return_state:
            states = [(batch, units) for _ in self.state_size]
            return (output_shape, *states)
        return output_shape

    def compute_mask(self, sequences, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.state_size]
        return output_mask

    def get_initial_state(self, batch_size):
        return self.cell.initial_states(batch_size)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        cell = self.cell
        x = ops.cast(sequences, self.compute_dtype)  # (B, T, in)
        batch_size = ops.shape(x)[0]
        if initial_state is None:
            states = cell.initial_states(batch_size)
        else:
            if not isinstance(initial_state, (list, tuple)):
                initial_state = [initial_state]
            if len(initial_state) != len(self.state_size):
                raise ValueError(
                    f"initial_state must be a list of {len(self.state_size)} "
                    f"tensors, got {len(initial_state)}."
                )
            states = [ops.cast(s, self.compute_dtype) for s in initial_state]
        if isinstance(mask, (list, tuple)):
            mask = mask[0]

        if training and cell.dropout > 0:
            # One input mask per sequence, shared by all time steps.
            dp_mask = keras.random.dropout(
                ops.ones_like(x[:, 0, :]),
                cell.dropout,
                seed=cell.seed_generator,
            )
            x = x * ops.expand_dims(dp_mask, 1)
        rec_mask = None
        if training and cell.recurrent_dropout > 0:
            rec_mask = keras.random.dropout(
                ops.ones_like(states[0]),
                cell.recurrent_dropout,
                seed=cell.seed_generator,
            )

        x = ops.transpose(x, (1, 0, 2))  # (T, B, in)
        if mask is not None:
            mask = ops.transpose(ops.cast(mask, "bool"), (1, 0))  # (T, B)
        if self.go_backwards:
            x = ops.flip(x, axis=0)
            if mask is not None:
                mask = ops.flip(mask, axis=0)

        if (
            keras.backend.backend() == "tensorflow"
            and self.use_fused_gradient
            and cell.supports_fused()
        ):
            # Hand-written backpropagation through time (fused_rnn.py).
            project, params = cell.fused_inputs()
            m = None if mask is None else ops.cast(mask, x.dtype)[..., None]
            outputs, final = fused_recurrence(
                cell,
                x,  # projected per batch slice: one matmul each
                m,
                tuple(states),
                params,
                rec_mask,
                unroll=True if self.unroll else self.fused_unroll,
                chains=self.fused_chains,
                return_outputs=self.return_sequences,
                project=project,
            )
        else:
            zx = cell.project_inputs(x)  # (T, B, k*units), one matmul
            params = cell.recurrent_params()
            final, outputs = self._scan(zx, mask, states, params, rec_mask)
        if self.return_sequences:
            if mask is not None:
                # Steps before the first unmasked one output zeros (Keras).
                seen = ops.cumsum(ops.cast(mask, "int32"), axis=0) > 0
                outputs = ops.where(ops.expand_dims(seen, -1), outputs, 0.0)
            output = ops.transpose(outputs, (1, 0, 2))  # (B, T, units)
        else:
            # The last masked-carry output is the final hidden state; a
            # row with no unmasked step outputs zeros (Keras).
            output = final[0]
            if mask is not None:
                seen = ops.any(mask, axis=0)  # (B,)
                output = ops.where(ops.expand_dims(seen, -1), output, 0.0)
        if self.return_state:
            return (output, *final)
        return output

    def _scan(self, zx, mask, states, params, rec_mask):
        """Autodiff-friendly loop for any activation and any backend."""
        cell = self.cell
        if mask is None:

            def body(carry, xs_t):
                new = tuple(cell.step(xs_t[0], list(carry), params, rec_mask))
                return new, new[0]

            xs = (zx,)
        else:

            def body(carry, xs_t):
                zx_t, m_t = xs_t  # (B, k*units), (B, 1)
                new = cell.step(zx_t, list(carry), params, rec_mask)
                new = tuple(ops.where(m_t, n, o) for n, o in zip(new, carry))
                return new, new[0]

            xs = (zx, ops.expand_dims(mask, -1))  # (T, B, 1)
        return scan(body, tuple(states), xs)  # final, outputs (T, B, H)

    def get_config(self):
        cell_config = self.cell.get_config()
        config = {
            name: cell_config[name]
            for name in type(self).cell_arg_names
            if name in cell_config
        }
        return {
            **super().get_config(),
            **config,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
        }
