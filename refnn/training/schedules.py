"""Learning-rate decay schedules (seed: "Learning Rate Decay").

All four are `keras.optimizers.schedules.LearningRateSchedule` subclasses:
pass one as an optimizer's `learning_rate=`. Keras calls a schedule with the
optimizer's `iterations` counter, i.e. `step = 0` for the first update, so the
seed's 1-based time is `t = step + 1`.

| schedule | η(step) |
|---|---|
| `InverseSqrtDecay` | `η₀ / √(step + 1)` (seed: `η_t = η₀ / √t`) |
| `StepDecay` | `η₀ · factor^⌊step / drop_every⌋` |
| `ExponentialDecay` | `η₀ · rate^(step / decay_steps)` |
| `WarmupCosineDecay` | `η₀ · step / W`, then `η₀ · (α + (1-α) · c(step))` |

where `c(step) = ½(1 + cos(π · min(step - W, D) / D))` after `W` warm-up
steps.

References:
    seeds/002 "Learning Rate Decay" and "Local Minima and Random Restart"
    (3. Learning Rate Scheduling: η_t = η_0 / √t).
"""

import math

import keras
from keras import ops

Schedule = keras.optimizers.schedules.LearningRateSchedule


def _positive(name, value, integer=False):
    kind = int if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kind)
        or not math.isfinite(value)
        or value <= 0
    ):
        what = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {what}, got {value!r}.")
    return int(value) if integer else float(value)


def _in_unit(name, value, closed_low=True):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    low_ok = ok and (value >= 0 if closed_low else value > 0)
    if not (ok and low_ok and value <= 1):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}.")
    return float(value)


@keras.saving.register_keras_serializable(package="refnn")
class InverseSqrtDecay(Schedule):
    """The seed's `η_t = η₀ / √t` with `t = step + 1` (so `η(0) = η₀`).

    Args:
        initial_learning_rate: `η₀ > 0`.

    Example:

    >>> schedule = InverseSqrtDecay(0.1)
    >>> round(float(schedule(3)), 6)  # t = 4: 0.1 / 2
    0.05

    References:
        seeds/002 "Local Minima and Random Restart" (η_t = η_0 / √t).
    """

    def __init__(self, initial_learning_rate):
        self.initial_learning_rate = _positive(
            "initial_learning_rate", initial_learning_rate
        )

    def __call__(self, step):
        t = ops.cast(step, "float32") + 1.0
        return self.initial_learning_rate / ops.sqrt(t)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate}


@keras.saving.register_keras_serializable(package="refnn")
class StepDecay(Schedule):
    """Piecewise-constant decay `η₀ · factor^⌊step / drop_every⌋`.

    Args:
        initial_learning_rate: `η₀ > 0`.
        drop_every: number of steps between drops (positive integer).
        factor: multiplier applied at each drop, in `(0, 1]`. Defaults to
            `0.5`.

    Example:

    >>> float(StepDecay(1.0, drop_every=10, factor=0.5)(25))
    0.25

    References:
        seeds/002 "Learning Rate Decay".
    """

    def __init__(self, initial_learning_rate, drop_every, factor=0.5):
        self.initial_learning_rate = _positive(
            "initial_learning_rate", initial_learning_rate
        )
        self.drop_every = _positive("drop_every", drop_every, integer=True)
        self.factor = _in_unit("factor", factor, closed_low=False)

    def __call__(self, step):
        drops = ops.floor(ops.cast(step, "float32") / float(self.drop_every))
        return self.initial_learning_rate * ops.power(self.factor, drops)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "drop_every": self.drop_every,
            "factor": self.factor,
        }


@keras.saving.register_keras_serializable(package="refnn")
class ExponentialDecay(Schedule):
    """Smooth exponential decay `η₀ · rate^(step / decay_steps)`.

    Equals `keras.optimizers.schedules.ExponentialDecay` with
    `staircase=False`.

    Args:
        initial_learning_rate: `η₀ > 0`.
        decay_steps: steps over which the rate is multiplied by `rate`.
        rate: decay factor in `(0, 1]`.

    Example:

    >>> round(float(ExponentialDecay(1.0, decay_steps=10, rate=0.5)(20)), 6)
    0.25

    References:
        seeds/002 "Learning Rate Decay".
    """

    def __init__(self, initial_learning_rate, decay_steps, rate):
        self.initial_learning_rate = _positive(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _positive("decay_steps", decay_steps, integer=True)
        self.rate = _in_unit("rate", rate, closed_low=False)

    def __call__(self, step):
        p = ops.cast(step, "float32") / float(self.decay_steps)
        return self.initial_learning_rate * ops.power(self.rate, p)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "rate": self.rate,
        }


@keras.saving.register_keras_serializable(package="refnn")
class WarmupCosineDecay(Schedule):
    """Linear warm-up from 0 to `η₀`, then cosine decay to `alpha · η₀`.

    `η = η₀ · step / W` while `step < W`; afterwards, with
    `s = min(step - W, D)`, `η = η₀ · (α + (1-α) · ½(1 + cos(π s / D)))`.
    Equals `keras.optimizers.schedules.CosineDecay(0.0, D, alpha,
    warmup_target=η₀, warmup_steps=W)`.

    Args:
        learning_rate: the peak rate `η₀ > 0` reached after warm-up.
        warmup_steps: `W ≥ 0` steps of linear warm-up.
        decay_steps: `D > 0` steps of cosine decay after warm-up.
        alpha: final rate as a fraction of `η₀`, in `[0, 1]`. Defaults to 0.

    Example:

    >>> s = WarmupCosineDecay(1.0, warmup_steps=10, decay_steps=10)
    >>> [round(float(s(k)), 4) for k in (0, 5, 10, 15, 20)]
    [0.0, 0.5, 1.0, 0.5, 0.0]

    References:
        seeds/002 "Learning Rate Decay".
    """

    def __init__(self, learning_rate, warmup_steps, decay_steps, alpha=0.0):
        self.learning_rate = _positive("learning_rate", learning_rate)
        if (
            isinstance(warmup_steps, bool)
            or not isinstance(warmup_steps, int)
            or warmup_steps < 0
        ):
            raise ValueError(
                "warmup_steps must be a non-negative integer, "
                f"got {warmup_steps!r}."
            )
        self.warmup_steps = warmup_steps
        self.decay_steps = _positive("decay_steps", decay_steps, integer=True)
        self.alpha = _in_unit("alpha", alpha)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = float(max(self.warmup_steps, 1))
        warmup = self.learning_rate * step / warm
        s = ops.minimum(step - self.warmup_steps, float(self.decay_steps))
        cosine = 0.5 * (1.0 + ops.cos(math.pi * s / self.decay_steps))
        decayed = self.learning_rate * (
            self.alpha + (1.0 - self.alpha) * cosine
        )
        return ops.where(step < self.warmup_steps, warmup, decayed)

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
        }
