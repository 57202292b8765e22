"""One call for reproducible training: seeds and deterministic kernels."""

import keras
import tensorflow as tf


def set_seed(seed, deterministic=True):
    """Seeds Python, NumPy, Keras and TensorFlow; optionally makes ops exact.

    `keras.utils.set_random_seed(seed)` fixes every random draw (weight
    initialization, dropout masks, shuffling). With `deterministic=True`,
    `tf.config.experimental.enable_op_determinism()` also makes the kernels
    themselves deterministic (no order-dependent float reductions), so two
    runs with the same seed end with bit-identical weights. The switch is
    process-wide and TensorFlow has no public way to undo it, so use it in
    the training script, not inside a library or a shared test process.

    Args:
        seed: a non-negative integer.
        deterministic: also enable TensorFlow op determinism.

    Returns:
        The seed.

    Example:

    ```python
    set_seed(42)
    model = build_model(); model.fit(...)  # same weights on every run
    ```

    References:
        seeds/002 "Local Minima and Random Restart" ("Run multiple times
        with different seeds").
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return seed
