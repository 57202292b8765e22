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

`BaseRNN` is the sequence layer: it computes the input projection for all
steps at once (one matmul over `(sequence_length, batch_size,
input_dim)`), draws dropout masks once per sequence, and runs the cell's
`step` over time with `scan()` below (autodiff through the loop: a
`tf.while_loop` under TensorFlow, `keras.ops.scan` under other backends;
a Python loop with `unroll=True`). That is the reference path, the code a
learner reads.

Under TensorFlow with the default activations and the fast path on
(`refnn.config.set_fast_path`), `refnn.kernels.rnn_kernel` hands the
recurrence to `refnn/kernels/fused_rnn.py` instead: the same cell weights
with a hand-written backward pass, proved equal to this path by
`tests/kernels/fused_rnn_test.py`.

References:
    seeds/002_e8e42c835faa4e59.txt, "1. Recurrent Neural Networks (RNN)".
"""

import keras
from keras import ops

from refnn import _validation as validation
from refnn import kernels


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
    """Returns `units` after checking it is a positive int (not a bool).

    Raises:
        ValueError: naming `units` and the value given.
    """
    return validation.positive_int("units", units)


check_rate = validation.rate
check_bool = validation.boolean


def check_implementation(implementation):
    """Keras's `implementation` (1: several small matmuls, 2: fused): the
    same arithmetic either way; refnn always computes the fused form."""
    if isinstance(implementation, bool) or implementation not in (1, 2):
        raise ValueError(
            f"implementation must be 1 or 2, got {implementation!r}."
        )
    return implementation


class BaseRNNCell(keras.layers.Layer):
    """Shared machinery of the refnn recurrent cells (not public).

    Subclasses set `num_gates` (1, 3 or 4) and implement `step()`; they may
    override `_bias_shape()`, `_bias_initializer()`, `input_bias()` and
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
        self.seed_generator = None  # no RNG state without dropout
        if self.dropout > 0 or self.recurrent_dropout > 0:
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

    def input_bias(self):
        """The bias added to the projected inputs (`None` without bias)."""
        return self.bias

    def project_inputs(self, x):
        """`x @ kernel + input_bias`, for one step `(batch_size,
        input_dim)` or all steps at once `(sequence_length, batch_size,
        input_dim)`."""
        z = ops.matmul(x, self.kernel)
        bias = self.input_bias()
        return z if bias is None else z + bias

    def recurrent_params(self):
        """Recurrent weights, read once per sequence and passed to `step`."""
        return (ops.convert_to_tensor(self.recurrent_kernel),)

    def step(self, zx, states, params, rec_mask=None):
        raise NotImplementedError

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


def check_use_cudnn(use_cudnn):
    """Keras's `use_cudnn`: `"auto"` and `False` run refnn's own loop;
    `True` (demand cuDNN) is refused, refnn has no cuDNN kernel."""
    if use_cudnn is True:
        raise ValueError(
            "use_cudnn=True is not supported: refnn runs its own recurrence "
            "(no cuDNN kernel). Pass use_cudnn='auto' or False, got "
            f"use_cudnn={use_cudnn!r}."
        )
    if use_cudnn not in ("auto", False):
        raise ValueError(
            f"use_cudnn must be 'auto', True or False, got {use_cudnn!r}."
        )
    return use_cudnn


class _StateVariables:
    """Holds a stateful layer's state variables out of its weights (like
    Keras's RNN: they are not saved and not in `get_weights()`)."""

    def __init__(self, variables):
        self.variables = list(variables)


class BaseRNN(keras.layers.Layer):
    """Runs a refnn cell over a sequence (not public).

    Keras semantics: masked steps carry the states through unchanged and
    output the previous output (zeros before the first unmasked step, or
    at every masked step with `zero_output_for_mask=True`);
    `go_backwards=True` reads the sequence reversed and returns the outputs
    in that reversed order; dropout masks are drawn once per sequence;
    `stateful=True` keeps the final states of a batch as the initial
    states of the next (`reset_states()` zeroes them). Unlike Keras's
    LSTM/GRU (which draw one recurrent-dropout mask per gate), one
    recurrent-dropout mask is shared by all gates so that the recurrent
    matmul stays one matmul.
    """

    cell_class = None
    cell_name = None
    cell_arg_names = ()
    # Fast path (`refnn.kernels.rnn_kernel`): set to False on the class or
    # an instance to run the reference loop even when the fast path is on.
    use_fused_gradient = True
    # Fast path only: how many independent batch slices run in parallel
    # (None: one per core, see `kernels.fused_rnn.num_chains`), and
    # whether to unroll the time loop (None:
    # `kernels.fused_rnn.default_unroll`; `unroll=True` forces it).
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
        zero_output_for_mask=False,
        activity_regularizer=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.return_state = check_bool("return_state", return_state)
        self.go_backwards = check_bool("go_backwards", go_backwards)
        self.stateful = check_bool("stateful", stateful)
        self.unroll = check_bool("unroll", unroll)
        self.zero_output_for_mask = check_bool(
            "zero_output_for_mask", zero_output_for_mask
        )
        self.cell = self.cell_class(
            **cell_kwargs,
            dtype=self.dtype_policy,
            trainable=kwargs.get("trainable", True),
            name=self.cell_name,
        )
        self._state_variables = None
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

    @property
    def states(self):
        """The state variables of a stateful layer (`None` otherwise), as
        Keras's RNN layers expose them (`Bidirectional` reads them)."""
        if self._state_variables is None:
            return None
        return self._state_variables.variables

    def build(self, sequences_shape, initial_state_shape=None):
        if not self.cell.built:
            self.cell.build((sequences_shape[0], sequences_shape[-1]))
        if self.stateful and self._state_variables is None:
            batch_size = sequences_shape[0]
            if batch_size is None:
                raise ValueError(
                    "stateful=True needs a static batch size (e.g. "
                    "keras.Input(batch_size=...)), got sequences of shape "
                    f"{tuple(sequences_shape)}."
                )
            self._state_variables = _StateVariables(
                keras.Variable(
                    ops.zeros((batch_size, self.cell.units)),
                    trainable=False,
                    dtype=self.variable_dtype,
                    name="rnn_state",
                )
                for _ in self.state_size
            )

    def reset_state(self):
        """Zeroes the states of a stateful layer."""
        for v in self.states or ():
            v.assign(ops.zeros(v.shape, v.dtype))

    def reset_states(self):
        """Alias of `reset_state` (Keras's name for it)."""
        self.reset_state()

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

    def _initial_states(self, x, initial_state):
        if initial_state is None:
            if self.stateful:
                expected = self.states[0].shape[0]
                if x.shape[0] is not None and x.shape[0] != expected:
                    raise ValueError(
                        f"A stateful layer built for batch size {expected} "
                        f"got sequences of shape {tuple(x.shape)}."
                    )
                return [ops.cast(v, self.compute_dtype) for v in self.states]
            return self.cell.initial_states(ops.shape(x)[0])
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        if len(initial_state) != len(self.state_size):
            raise ValueError(
                f"initial_state must be a list of {len(self.state_size)} "
                f"tensors, got {len(initial_state)}."
            )
        return [ops.cast(s, self.compute_dtype) for s in initial_state]

    def call(self, sequences, initial_state=None, mask=None, training=None):
        cell = self.cell
        x = ops.cast(sequences, self.compute_dtype)  # (B, T, in)
        states = self._initial_states(x, initial_state)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.unroll and x.shape[1] is None:
            raise ValueError(
                "unroll=True needs a static sequence length, got sequences "
                f"of shape {tuple(x.shape)}."
            )

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

        kernel = kernels.rnn_kernel(self)  # None: the reference path
        if kernel is not None:
            outputs, final = kernels.fused_rnn.fused_recurrence(
                kernel,
                x,
                None if mask is None else ops.cast(mask, x.dtype)[..., None],
                tuple(states),
                rec_mask,
                unroll=True if self.unroll else self.fused_unroll,
                chains=self.fused_chains,
                return_outputs=self.return_sequences,
            )
        else:
            zx = cell.project_inputs(x)  # (T, B, k*units), one matmul
            params = cell.recurrent_params()
            final, outputs = self._scan(zx, mask, states, params, rec_mask)
        if self.stateful:
            for variable, state in zip(self.states, final):
                variable.assign(ops.cast(state, variable.dtype))
        if self.return_sequences:
            if mask is not None:
                # Zeros before the first unmasked step (Keras), or at every
                # masked step with `zero_output_for_mask`.
                keep = mask
                if not self.zero_output_for_mask:
                    keep = ops.cumsum(ops.cast(mask, "int32"), axis=0) > 0
                outputs = ops.where(ops.expand_dims(keep, -1), outputs, 0.0)
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
        """The reference loop: `cell.step` at every time step, masked steps
        keeping the previous states. Returns `(final_states, outputs)`."""
        cell = self.cell

        def body(carry, xs_t):
            new = tuple(cell.step(xs_t[0], list(carry), params, rec_mask))
            if mask is not None:
                m_t = xs_t[1]  # (B, 1)
                new = tuple(ops.where(m_t, n, o) for n, o in zip(new, carry))
            return new, new[0]

        xs = (zx,) if mask is None else (zx, ops.expand_dims(mask, -1))
        if not self.unroll:
            return scan(body, tuple(states), xs)  # final, (T, B, H)
        carry, outputs = tuple(states), []
        for t in range(zx.shape[0]):  # unroll=True: the steps written out
            carry, y = body(carry, tuple(x[t] for x in xs))
            outputs.append(y)
        return carry, ops.stack(outputs)

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
            "zero_output_for_mask": self.zero_output_for_mask,
        }
