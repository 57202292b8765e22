"""What a hand-written `train_step` needs to be right under any strategy.

Under `tf.distribute` (TensorFlow backend), `train_step` runs once per
replica on that replica's shard of the global batch, and
`optimizer.apply` **sums** the replicas' gradients. A gradient averaged
over the local shard must therefore also be divided by the number of
replicas, as Keras's losses do for the autodiff models
(`scale_loss_for_distribution`). Under the JAX backend (and with no
strategy) there is one program over the whole batch: one replica.
"""

import keras


def num_replicas_in_sync():
    """Number of replicas that each run `train_step` on a shard (>= 1).

    Example:

    >>> num_replicas_in_sync()  # no strategy: one replica
    1
    """
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return int(tf.distribute.get_strategy().num_replicas_in_sync)


def all_reduce_sum(value):
    """Σ over the replicas of `value` (itself with one replica).

    Called from `train_step`, i.e. in a replica context; every replica
    gets the same sum, so assigning it keeps the copies of a variable
    equal.

    Example:

    >>> all_reduce_sum(3.0)  # no strategy: one replica, the value itself
    3.0
    """
    if num_replicas_in_sync() == 1:
        return value
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def gradient_scale(optimizer):
    """Factor for gradients computed by hand from a per-replica mean loss.

    `optimizer.scale_loss(1)` is the loss-scale of a
    `keras.optimizers.LossScaleOptimizer` (its `apply` divides by it) and
    1 otherwise; the division by the number of replicas makes the summed
    replica gradients the gradient of the global-batch mean.

    Args:
        optimizer: a Keras optimizer, or None.

    Returns:
        A float32 scalar tensor: loss scale / number of replicas.

    Example:

    >>> import keras
    >>> float(gradient_scale(keras.optimizers.SGD()))  # 1 / 1 replica
    1.0
    >>> scaled = keras.optimizers.LossScaleOptimizer(
    ...     keras.optimizers.SGD(), initial_scale=1024.0)
    >>> float(gradient_scale(scaled))  # the loss scale / 1 replica
    1024.0
    """
    scale = keras.ops.convert_to_tensor(1.0, "float32")
    if optimizer is not None:
        scale = keras.ops.cast(optimizer.scale_loss(scale), "float32")
    return scale / float(num_replicas_in_sync())
