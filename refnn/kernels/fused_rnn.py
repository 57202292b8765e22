"""Recurrence with a hand-written backward pass (TensorFlow backend only).

`tf.GradientTape` through a `tf.while_loop` records every intermediate of
every step and, in the backward loop, accumulates the recurrent-kernel
gradient step by step. Here the forward loop saves a few "residuals" per
step (activated gates, or, for the LSTM, the gate derivatives' factors
already multiplied out, so the backward step is two products), and the
backward loop (backpropagation through time) only does the gate
derivatives (TF's fused `SigmoidGrad` / `TanhGrad`) and one
`dz_t @ recurrent_kernelᵀ` per step. The weight gradient is then a single
matmul over all steps, `H_prevᵀ @ dZ` over `(T * B, units)`.

The per-step derivatives are in `rnn_cells.py` (one kernel per cell); they are
checked against autodiff through Keras's own layers in the tests.

References:
    seeds/000_90a0424528483d14.txt, backpropagation and the chain rule;
    seeds/002_e8e42c835faa4e59.txt, "1. Recurrent Neural Networks (RNN)".
"""

import os
import weakref

from keras import ops


def sigmoid_grad(y, dy):
    """`dy * y * (1 - y)` for `y = sigmoid(x)`, one fused TF op."""
    import tensorflow as tf

    return tf.raw_ops.SigmoidGrad(y=y, dy=dy)


def tanh_grad(y, dy):
    """`dy * (1 - y²)` for `y = tanh(x)`, one fused TF op."""
    import tensorflow as tf

    return tf.raw_ops.TanhGrad(y=y, dy=dy)


def _loop(step, carry, xs, num_ys, reverse=False, unroll=False):
    """`(carry, ys) = scan(step, carry, xs)`, as a loop or unrolled.

    `xs` is a tuple of time-major tensors (or, when unrolled, of per-step
    lists), `step(carry, x_t) -> (carry, y_t)` with tuples `x_t`, `y_t`
    (`num_ys` tensors of `xs[0]`'s dtype). `reverse=True` runs from the
    last step to the first; `ys` are in time order either way.

    With `unroll=False` this is a `tf.while_loop` over TensorArrays (reads
    and writes do not copy tensors) and `ys` are stacked `(T, ...)`
    tensors. With `unroll=True` (static `T` only) the steps are written
    out one after another in the graph: no loop bookkeeping per step, and
    `ys` are returned as Python lists of per-step tensors, so the backward
    pass reads them without a stack / unstack copy.
    """
    import tensorflow as tf

    if unroll:
        steps = [x if isinstance(x, list) else tf.unstack(x) for x in xs]
        n = len(steps[0])
        ys = [[None] * n for _ in range(num_ys)]
        for t in reversed(range(n)) if reverse else range(n):
            carry, y = step(carry, tuple(x[t] for x in steps))
            for k in range(num_ys):
                ys[k][t] = y[k]
        return carry, ys

    n = xs[0].shape[0]
    if n is None:
        n = tf.shape(xs[0])[0]
    tas = [
        tf.TensorArray(x.dtype, size=n, element_shape=x.shape[1:]).unstack(x)
        for x in xs
    ]
    ys_tas = [tf.TensorArray(xs[0].dtype, size=n) for _ in range(num_ys)]

    def body(t, carry, ys_tas):
        carry, ys = step(carry, tuple(ta.read(t) for ta in tas))
        ys_tas = [ta.write(t, y) for ta, y in zip(ys_tas, ys)]
        return (t - 1 if reverse else t + 1), carry, ys_tas

    _, carry, ys_tas = tf.while_loop(
        (lambda t, *_: t >= 0) if reverse else (lambda t, *_: t < n),
        body,
        (n - 1 if reverse else 0, carry, ys_tas),
        parallel_iterations=32,
    )
    return carry, [ta.stack() for ta in ys_tas]


def _stack(y):
    """A `(T, ...)` tensor from `_loop`'s output (a tensor or a list)."""
    import tensorflow as tf

    return tf.stack(y) if isinstance(y, list) else y


class _LazyStack:
    """`residuals[k]` stacked `(T, ...)` on first use (unrolled loops keep
    per-step lists; most cells never need them stacked)."""

    def __init__(self, ys):
        self._ys = list(ys)
        self._cache = {}

    def __len__(self):
        return len(self._ys)

    def __getitem__(self, k):
        if k not in self._cache:
            self._cache[k] = _stack(self._ys[k])
        return self._cache[k]


# Static sequences up to this many steps are unrolled (see `_loop`).
UNROLL_MAX_STEPS = 128
# Fewest batch rows per parallel chain (see `fused_recurrence`).
MIN_CHAIN_ROWS = 16


def available_cores():
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def num_chains(batch_size, max_chains=None):
    """How many independent batch slices `fused_recurrence` runs.

    One per core, with at least `MIN_CHAIN_ROWS` rows each when the batch
    size is static; two (or one on a single core) when it is not.
    """
    cores = available_cores() if max_chains is None else max_chains
    if batch_size is None:
        return max(1, min(cores, 2))
    return max(1, min(cores, batch_size // MIN_CHAIN_ROWS))


def in_xla_context():
    """Whether the graph being traced will be compiled by XLA.

    `tf.function(jit_compile=True)` (Keras's `jit_compile=True`) traces
    inside an XLA context, where `default_unroll` decides differently.
    TensorFlow has no public query for it; what is public is the graph a
    loop builds: inside an XLA context `tf.while_loop` marks its op for
    XLA's compile-time constants (`_xla_propagate_compile_time_consts`),
    outside it marks it for lowering to the executor's switch/merge ops.
    A throwaway loop (unused, so pruned from the graph) is asked once per
    graph. Eagerly there is no XLA context. If a TensorFlow release
    changed these marks, only the unrolling choice (speed) would change;
    `tests/kernels/fused_rnn_test.py` checks both answers.
    """
    import tensorflow as tf

    if tf.executing_eagerly():
        return False
    graph = tf.compat.v1.get_default_graph()
    if graph not in _XLA_CONTEXT:
        with tf.name_scope("refnn_xla_probe"):
            loop = tf.while_loop(lambda i: i < 1, lambda i: i + 1, [0])
        op = loop.op if hasattr(loop, "op") else loop[0].op
        while op.type not in ("While", "StatelessWhile") and op.inputs:
            op = op.inputs[0].op
        _XLA_CONTEXT[graph] = (
            "_xla_propagate_compile_time_consts" in op.node_def.attr
        )
    return _XLA_CONTEXT[graph]


_XLA_CONTEXT = weakref.WeakKeyDictionary()


def default_unroll(kernel, steps, rows):
    """Whether `fused_recurrence(unroll=None)` writes the steps out.

    Outside XLA: for static sequences of up to `UNROLL_MAX_STEPS` steps
    (no per-step loop bookkeeping in the TensorFlow executor).

    Under XLA a `tf.while_loop` is already a tight loop, but on CPU each
    per-step write of a residual into its `(T, ...)` buffer (a
    dynamic-update-slice) costs about 1 ns per element, measured: 18 µs
    per step for a `(32, 512)` block, against 3 µs for an elementwise op on
    it. Unrolled, the residuals are plain values and nothing is written per
    step. Whether that pays depends on the cell (its
    `xla_unroll_min_rows`, `None` for never) and on the rows per batch
    slice. Measured (`train_on_batch`, 64 steps, 128 units, 2 cores): the
    LSTM with 32 rows per slice trains in 16.5 ms unrolled against 23.5 ms
    looped (64 rows: 26.9 against 50.4 ms; 16 rows: 7.7 against 5.5 ms);
    the GRU is slower unrolled at every size tried. Unrolling makes the XLA
    compilation longer (LSTM: about 4 s for 64 steps, 9 s for 128, against
    under 1 s).

    Args:
        kernel: the cell's kernel (`rnn_cells`).
        steps: static sequence length, or `None`.
        rows: static rows per batch slice, or `None`.
    """
    if steps is None or steps > UNROLL_MAX_STEPS:
        return False
    if not in_xla_context():
        return True
    min_rows = kernel.xla_unroll_min_rows
    return min_rows is not None and rows is not None and rows >= min_rows


def fused_recurrence(
    kernel,
    x,
    mask,
    states,
    rec_mask,
    unroll=None,
    chains=None,
    return_outputs=True,
):
    """Runs a cell's kernel over `x` with a custom gradient.

    The rows of a batch are independent recurrences. On CPU the per-step
    ops of one `(B, units)` recurrence are too small to keep more than one
    core busy, so the batch is cut into `chains` slices whose loops (and
    backward loops) are separate, independent parts of the graph: the
    TensorFlow executor runs them on different cores at once. (XLA on CPU
    runs them one after the other; measured, the smaller per-step matrices
    are still faster there.) Each row's arithmetic is unchanged.

    Args:
        kernel: a cell's kernel from `rnn_cells.kernel_for`.
        x: `(T, B, input_dim)` inputs; each batch slice is projected on
            its own by the kernel's `fused_inputs()` projection.
        mask: `None` or float `(T, B, 1)` (1 = step used).
        states: tuple of initial states, each `(B, units)`.
        rec_mask: `None` or `(B, units)` recurrent dropout mask.
        unroll: write the steps out in the graph instead of a
            `tf.while_loop` (needs a static `T`). `None`: see
            `default_unroll`.
        chains: number of batch slices; `None`: `num_chains(B)`.
        return_outputs: `False` when only the final states are used (a
            layer without `return_sequences`): the per-step outputs are
            then neither stacked nor given a gradient.

    Returns:
        `(outputs, final_states)`: `(T, B, units)` masked-carry outputs
        (`None` when `return_outputs=False`) and the tuple of final states.
    """
    import tensorflow as tf

    project, params = kernel.fused_inputs()
    steps, batch = x.shape[0], x.shape[1]
    if chains is None:
        chains = num_chains(batch)
    if unroll is None:
        rows = None if batch is None else batch // chains
        unroll = default_unroll(kernel, steps, rows)
    if unroll and steps is None:
        raise ValueError(
            "unroll=True needs a static sequence length, got a sequence "
            f"of shape {tuple(x.shape)}."
        )
    # Read variables once, outside the custom-gradient function.
    params = tuple(None if p is None else tf.identity(p) for p in params)
    if chains == 1:
        return _recurrence(
            kernel,
            project(x),
            mask,
            states,
            params,
            rec_mask,
            unroll,
            return_outputs,
        )

    if batch is None:
        batch = tf.shape(x)[1]
    size = batch // chains
    sizes = [size] * (chains - 1) + [batch - size * (chains - 1)]

    def split(x, axis):
        return [None] * chains if x is None else tf.split(x, sizes, axis)

    per_chain = zip(
        split(x, 1),
        split(mask, 1),
        zip(*[split(s, 0) for s in states]),
        split(rec_mask, 0),
    )
    results = [
        _recurrence(
            kernel,
            project(z),
            m,
            tuple(st),
            params,
            rm,
            unroll,
            return_outputs,
        )
        for z, m, st, rm in per_chain
    ]
    outputs = None
    if return_outputs:
        outputs = tf.concat([r[0] for r in results], axis=1)
    final = tuple(
        tf.concat([r[1][i] for r in results], axis=0)
        for i in range(len(states))
    )
    return outputs, final


def _recurrence(
    cell, zx, mask, states, params, rec_mask, unroll, return_outputs
):  # `cell`: the cell's kernel
    """`fused_recurrence` for one chain."""
    import tensorflow as tf

    n_states = len(states)
    used = [i for i, p in enumerate(params) if p is not None]

    def unpack(flat_params):
        full = [None] * len(params)
        for i, p in zip(used, flat_params):
            full[i] = p
        return tuple(full)

    @tf.custom_gradient
    def core(zx, *flat):
        init = tuple(flat[:n_states])
        prm = unpack(flat[n_states:])

        def fwd_step(carry, x_t):
            new, res = cell.fused_step(x_t[0], carry, prm, rec_mask)
            if mask is not None:
                m = x_t[1] > 0
                new = tuple(ops.where(m, a, b) for a, b in zip(new, carry))
            return new, (new[0], *res)

        xs = (zx,) if mask is None else (zx, mask)
        n_res = cell.num_residuals
        final, ys = _loop(fwd_step, init, xs, 1 + n_res, unroll=unroll)
        hs = ys[0]  # (T, B, units) or a list of steps
        residuals = tuple(ys[1:])  # each (T, B, units) or a list of steps
        outputs = _stack(hs) if return_outputs else None

        def grad(*d_results):
            if return_outputs:
                d_outputs, d_final = d_results[0], d_results[1:]
            else:
                d_outputs, d_final = None, d_results
            d_final = tuple(
                ops.zeros_like(s) if d is None else d
                for d, s in zip(d_final, init)
            )
            grad_prm = cell.fused_grad_params(prm)
            n_out = 0 if d_outputs is None else 1

            def back_step(d_states, x_t):
                if n_out:
                    d_states = (d_states[0] + x_t[0],) + tuple(d_states[1:])
                if mask is not None:
                    m = x_t[-1]  # (B, 1) in {0, 1}
                    d_new = tuple(d * m for d in d_states)
                else:
                    d_new = d_states
                dz_t, d_prev = cell.fused_step_grad(
                    d_new, x_t[n_out : n_out + n_res], grad_prm, rec_mask
                )
                if mask is not None:
                    d_prev = tuple(
                        p + (d - dn)
                        for p, d, dn in zip(d_prev, d_states, d_new)
                    )
                dz_t = dz_t if isinstance(dz_t, tuple) else (dz_t,)
                return tuple(d_prev), dz_t

            xs = residuals if d_outputs is None else (d_outputs, *residuals)
            xs = xs if mask is None else xs + (mask,)
            n_dz = cell.num_dz
            d_init, dz = _loop(
                back_step, d_final, xs, n_dz, reverse=True, unroll=unroll
            )
            dz = _stack(dz[0]) if n_dz == 1 else tuple(map(_stack, dz))
            if isinstance(hs, list):
                h_prev = tf.stack([init[0]] + hs[:-1])  # (T, B, H)
            else:
                h_prev = ops.concatenate(
                    [ops.expand_dims(init[0], 0), hs[:-1]], axis=0
                )
            if rec_mask is not None:
                h_prev = h_prev * rec_mask
            d_zx, d_prm = cell.fused_param_grads(
                dz, h_prev, _LazyStack(residuals), prm
            )
            d_prm = [d_prm[i] for i in used]
            return (d_zx, *d_init, *d_prm)

        if return_outputs:
            return (outputs, *final), grad
        return tuple(final), grad

    flat_params = [params[i] for i in used]
    results = core(zx, *states, *flat_params)
    if return_outputs:
        return results[0], tuple(results[1:])
    return None, tuple(results)


def flat_matmul_t(a, b):
    """`sum_t a[t]ᵀ @ b[t]` for `(T, B, m)` and `(T, B, n)`: one matmul."""
    a2 = ops.reshape(a, (-1, a.shape[-1]))  # (T*B, m)
    b2 = ops.reshape(b, (-1, b.shape[-1]))  # (T*B, n)
    return ops.matmul(ops.transpose(a2), b2)  # (m, n)
