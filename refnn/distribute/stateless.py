"""A stateful `train_step`/`test_step` run as the JAX trainer's stateless one.

Keras's JAX trainer calls `train_step(state, data)` with the values of the
model's variables and expects `(logs, new_state)` back (see Keras's guide
"Customizing what happens in fit() with JAX"). `stateless_step` maps each
variable to its value in `state` with a `keras.StatelessScope`, runs the
same stateful step the TensorFlow backend runs (the same formulas, the
same `assign`s and `optimizer.apply`), and collects the values assigned.
"""

import keras


def _variable_groups(model, num_groups):
    groups = [model.trainable_variables, model.non_trainable_variables]
    if num_groups == 4:  # train_step: trainable, non-trainable, opt, metrics
        groups.append(model.optimizer.variables)
    if num_groups >= 3:
        groups.append(model.metrics_variables)
    return groups


def stateless_step(model, step, state, data):
    """Runs `step(data)` on the variable values in `state`.

    Args:
        model: the `keras.Model` whose variables `state` holds.
        step: the stateful step, `step(data) -> logs`.
        state: tuple of lists of values, in the order of the JAX
            trainer: trainable, non-trainable, (optimizer,) metrics.
        data: the batch.

    Returns:
        `(logs, new_state)` with the same structure as `state`.

    Example:

    A step that multiplies the kernel by a factor, run on the value 2 in
    `state`: the new state holds 2 × 3, the model's variable is untouched.

    >>> import keras
    >>> import numpy as np
    >>> dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    >>> model = keras.Sequential([keras.Input((1,)), dense])
    >>> def step(factor):
    ...     dense.kernel.assign(dense.kernel * factor)
    ...     return {}
    >>> state = ([np.full((1, 1), 2.0, "float32")], [], [])
    >>> logs, new_state = stateless_step(model, step, state, 3.0)
    >>> np.asarray(new_state[0][0]).tolist(), dense.kernel.numpy().tolist()
    ([[6.0]], [[1.0]])
    """
    groups = _variable_groups(model, len(state))
    mapping = [
        (variable, value)
        for variables, values in zip(groups, state)
        for variable, value in zip(variables, values)
    ]
    with keras.StatelessScope(state_mapping=mapping) as scope:
        logs = step(data)
    new_state = []
    for variables, values in zip(groups, state):
        updated = []
        for variable, value in zip(variables, values):
            new = scope.get_current_value(variable)
            updated.append(value if new is None else new)
        new_state.append(updated)
    return logs, tuple(new_state)
