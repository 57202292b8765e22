"""The refnn cells' steps with their backward steps written out.

Each class here wraps one reference cell (`refnn.layers.SimpleRNNCell`,
`LSTMCell`, `GRUCell`) and gives `fused_rnn.fused_recurrence` what it
needs: the forward step rewritten to keep the few tensors its gradient
uses ("residuals"), the backward step of backpropagation through time, and
the weight gradients as single matmuls over all steps. The weights are the
cell's own; only the default activations are covered (their derivatives
are spelled out), `kernel_for` returns `None` for any other cell.

Proved equal to the reference cells' `step` (outputs, states and every
gradient, within 1e-5) by `tests/kernels/fused_rnn_test.py` and the
`test_hand_written_backward_matches_autodiff_with_dropout` in
`tests/layers/{simple_rnn,lstm,gru}_test.py`.
"""

import keras
from keras import ops

from refnn.kernels.fused_rnn import flat_matmul_t, sigmoid_grad, tanh_grad


def project(x, kernel, bias):
    """`x @ kernel + bias` for time-major `x` `(T, B, input_dim)`, as one
    2-D matmul whose gradient also gives the bias's (a row of ones)."""
    t, b = ops.shape(x)[0], ops.shape(x)[1]
    flat = ops.reshape(x, (-1, x.shape[-1]))  # (T*B, in)
    if bias is not None:
        flat = ops.concatenate([flat, ops.ones_like(flat[:, :1])], -1)
        kernel = ops.concatenate([kernel, bias[None, :]], 0)
    z = ops.matmul(flat, kernel)  # (T*B, k*units)
    return ops.reshape(z, (t, b, kernel.shape[-1]))  # (T, B, k*units)


class CellKernel:
    """Hand-written BPTT for one reference cell (base class)."""

    # Residual tensors saved per step, gradient tensors per step.
    num_residuals = 1
    num_dz = 1
    # Under XLA, unroll the loop when a batch slice has at least this many
    # rows (`None`: never); see `fused_rnn.default_unroll`.
    xla_unroll_min_rows = None

    def __init__(self, cell):
        self.cell = cell

    def fused_inputs(self):
        """`(project, params)`: the input projection `x -> zx` and the
        recurrent weights used by `fused_step`."""
        cell = self.cell
        kernel = ops.convert_to_tensor(cell.kernel)
        bias = cell.input_bias()

        def proj(x):
            return project(x, kernel, bias)

        return proj, cell.recurrent_params()

    def fused_grad_params(self, params):
        """Recurrent weights as used by the backward step (transposed)."""
        return tuple(None if p is None else ops.transpose(p) for p in params)


class SimpleRNNKernel(CellKernel):
    """`h_t = tanh(a_t)`, `a_t = zx_t + h_{t-1} U`; `∂h_t/∂a_t = 1 - h_t²`."""

    def fused_step(self, zx, states, params, rec_mask=None):
        h = self.cell.step(zx, states, params, rec_mask)[0]
        return (h,), (h,)

    def fused_step_grad(self, d_states, residual, grad_params, rec_mask):
        (recurrent_kernel_t,) = grad_params
        (h,) = residual
        da = tanh_grad(h, d_states[0])  # δ_t = δh_t (1 - h_t²)
        dh_prev = ops.matmul(da, recurrent_kernel_t)
        if rec_mask is not None:
            dh_prev = dh_prev * rec_mask
        return da, (dh_prev,)

    def fused_param_grads(self, dz, h_prev, residuals, params):
        return dz, (flat_matmul_t(h_prev, dz),)


class LSTMKernel(CellKernel):
    """All four gates from one sigmoid, `tanh(z) = 2·σ(2z) − 1`."""

    num_residuals = 3
    # Its residuals are large (a `(B, 4 * units)` block per step): under
    # XLA the unrolled recurrence is faster from 32 rows per batch slice
    # (measured, see `fused_rnn.default_unroll`).
    xla_unroll_min_rows = 32

    def _gate_scale(self):
        """`[1, 1, 2, 1]` per unit: doubles the candidate's columns."""
        u, dtype = self.cell.units, self.cell.compute_dtype
        return ops.concatenate(
            [
                ops.ones((2 * u,), dtype),
                ops.full((u,), 2.0, dtype),
                ops.ones((u,), dtype),
            ]
        )

    def fused_inputs(self):
        # The candidate's columns of `kernel`, `bias` and
        # `recurrent_kernel` are doubled (exact in floating point) and
        # autodiff carries the factor into their gradients.
        cell = self.cell
        scale = self._gate_scale()
        (recurrent_kernel,) = cell.recurrent_params()
        kernel = ops.convert_to_tensor(cell.kernel) * scale
        bias = None if cell.bias is None else cell.bias * scale

        def proj(x):
            return project(x, kernel, bias)

        return proj, (recurrent_kernel * scale,)

    def fused_step(self, zx, states, params, rec_mask=None):
        (recurrent_kernel,) = params  # candidate columns doubled
        h, c_prev = states
        if rec_mask is not None:
            h = h * rec_mask
        z = zx + ops.matmul(h, recurrent_kernel)  # (B, 4 * units)
        # One activation over the whole (B, 4 * units) block.
        a = ops.sigmoid(z)
        i, f, a_g, o = ops.split(a, 4, axis=-1)
        g = 2.0 * a_g - 1.0  # tanh of the candidate's pre-activation
        c = f * c_prev + i * g
        tanh_c = ops.tanh(c)
        h = o * tanh_c
        # Residuals: what the backward step multiplies by, so that it only
        # does dz = p * [dc, dc, dc, dh]. With ∂E/∂a =
        # [dc·g, dc·c_prev, 2·dc·i, dh·tanh(c)] and σ' = a(1 − a):
        p = sigmoid_grad(a, ops.concatenate([g, c_prev, 2.0 * i, tanh_c], -1))
        return (h, c), (p, tanh_grad(tanh_c, o), f)  # q = o·tanh'(c)

    def fused_step_grad(self, d_states, residual, grad_params, rec_mask):
        (recurrent_kernel_t,) = grad_params
        dh, dc = d_states
        p, q, f = residual
        dc = dc + dh * q  # ∂E/∂c_t
        dz = p * ops.concatenate([dc, dc, dc, dh], axis=-1)
        dh_prev = ops.matmul(dz, recurrent_kernel_t)
        if rec_mask is not None:
            dh_prev = dh_prev * rec_mask
        return dz, (dh_prev, dc * f)

    def fused_param_grads(self, dz, h_prev, residuals, params):
        return dz, (flat_matmul_t(h_prev, dz),)


class GRUKernel(CellKernel):
    """Both gates from one sigmoid; `h = n + z·(h_{t-1} − n)`."""

    num_residuals = 5

    def __init__(self, cell):
        super().__init__(cell)
        self.num_dz = 2 if cell.reset_after else 1

    def fused_inputs(self):
        cell = self.cell
        if not cell.reset_after or cell.bias is None:
            return super().fused_inputs()
        # The recurrent bias of the update and reset gates is added to the
        # input bias once (inside the projection matmul) instead of at
        # every step; only the candidate's, which the reset gate scales,
        # stays in the step.
        u = cell.units
        bias = ops.convert_to_tensor(cell.bias)
        zeros = ops.zeros((u,), bias.dtype)
        input_bias = bias[0] + ops.concatenate([bias[1, : 2 * u], zeros])
        kernel = ops.convert_to_tensor(cell.kernel)

        def proj(x):
            return project(x, kernel, input_bias)

        recurrent_kernel = ops.convert_to_tensor(cell.recurrent_kernel)
        return proj, (recurrent_kernel, bias[1, 2 * u :])

    def fused_step(self, zx, states, params, rec_mask=None):
        u = self.cell.units
        h_prev = states[0]
        h = h_prev if rec_mask is None else h_prev * rec_mask
        x_zr, x_h = ops.split(zx, [2 * u], axis=-1)
        if self.cell.reset_after:
            kernel, rec_bias_h = params  # rec_bias_h: candidate part only
            r_zr, r_h = ops.split(ops.matmul(h, kernel), [2 * u], axis=-1)
            if rec_bias_h is not None:
                r_h = r_h + rec_bias_h
            z, r = ops.split(ops.sigmoid(x_zr + r_zr), 2, axis=-1)
            n = ops.tanh(x_h + r * r_h)
            extra = r_h
        else:
            kernel_zr, kernel_h = params
            z, r = ops.split(
                ops.sigmoid(x_zr + ops.matmul(h, kernel_zr)), 2, axis=-1
            )
            n = ops.tanh(x_h + ops.matmul(r * h, kernel_h))
            extra = h
        # z·h + (1 − z)·n written as n + z·(h − n): one op fewer, and the
        # backward step needs h − n anyway.
        diff = h_prev - n
        return (n + z * diff,), (z, r, n, extra, diff)

    def fused_step_grad(self, d_states, residual, grad_params, rec_mask):
        dh = d_states[0]
        z, r, n, extra, diff = residual
        dhz = dh * z  # also the direct path to h_{t-1}
        d_az = sigmoid_grad(z, dh * diff)  # update gate
        d_an = tanh_grad(n, dh - dhz)  # candidate: dh·(1 − z)
        if self.cell.reset_after:
            r_h = extra
            (kernel_t,) = grad_params[:1]
            d_ar = sigmoid_grad(r, d_an * r_h)  # reset gate
            # ∂E/∂inner = [z, r, h-part of the recurrent matmul] and the
            # candidate's input part, kept apart (no per-step slicing).
            d_inner = ops.concatenate([d_az, d_ar, d_an * r], axis=-1)
            dz = (d_inner, d_an)
            dh_rec = ops.matmul(d_inner, kernel_t)
        else:
            h = extra  # h_{t-1}, after recurrent dropout
            kernel_zr_t, kernel_h_t = grad_params
            d_rh = ops.matmul(d_an, kernel_h_t)  # ∂E/∂(r * h)
            d_ar = sigmoid_grad(r, d_rh * h)
            d_zr = ops.concatenate([d_az, d_ar], axis=-1)
            dz = ops.concatenate([d_zr, d_an], axis=-1)
            dh_rec = d_rh * r + ops.matmul(d_zr, kernel_zr_t)
        if rec_mask is not None:
            dh_rec = dh_rec * rec_mask
        return dz, (dhz + dh_rec,)

    def fused_param_grads(self, dz, h_prev, residuals, params):
        u = self.cell.units
        if self.cell.reset_after:
            d_inner, d_an = dz  # (T, B, 3 * units), (T, B, units)
            d_zx = ops.concatenate([d_inner[..., : 2 * u], d_an], -1)
            d_bias_h = None
            if params[1] is not None:
                d_bias_h = ops.sum(d_inner[..., 2 * u :], axis=(0, 1))
            return d_zx, (flat_matmul_t(h_prev, d_inner), d_bias_h)
        r = residuals[1]
        return dz, (
            flat_matmul_t(h_prev, dz[..., : 2 * u]),
            flat_matmul_t(r * h_prev, dz[..., 2 * u :]),
        )


def kernel_for(cell):
    """The hand-written BPTT kernel of a refnn cell, or `None` when the
    cell has other activations than the defaults (or is another class)."""
    from refnn.layers import GRUCell, LSTMCell, SimpleRNNCell

    tanh, sigmoid = keras.activations.tanh, keras.activations.sigmoid
    if type(cell) is SimpleRNNCell and cell.activation is tanh:
        return SimpleRNNKernel(cell)
    gates_default = (
        getattr(cell, "activation", None) is tanh
        and getattr(cell, "recurrent_activation", None) is sigmoid
    )
    if type(cell) is LSTMCell and gates_default:
        return LSTMKernel(cell)
    if type(cell) is GRUCell and gates_default:
        return GRUKernel(cell)
    return None
