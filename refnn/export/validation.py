"""Input checks that run inside exported signatures (core TF ops only).

A SavedModel is served by programs that never import refnn (TF Serving,
KServe), so the checks a model's inputs need live in the graph itself:
`check_token_ids` makes an out-of-range id an ``InvalidArgument`` error that
names the input and the allowed range, where an embedding lookup would
otherwise wrap a negative id to the last row (``-1`` -> the last token) or
crash on an id past the table.
"""

import tensorflow as tf


def check_token_ids(token_ids, vocabulary_size, name="token_ids"):
    """Returns `token_ids` after checking ``0 <= id < vocabulary_size``.

    Usable inside a `tf.function` (a serving signature): the check is a
    `tf.debugging` assertion, so a request with a bad id fails with
    ``InvalidArgumentError`` (HTTP 400 / gRPC INVALID_ARGUMENT under TF
    Serving) instead of returning a silently wrong answer.

    Args:
        token_ids: an integer tensor of any shape.
        vocabulary_size: the number of token ids the model knows (int).
        name: the input's name, quoted in the error message.

    Returns:
        `token_ids`, with the check as a control dependency.

    Raises:
        tf.errors.InvalidArgumentError: an id outside
            ``[0, vocabulary_size)`` (at run time).
        ValueError: `vocabulary_size` is not a positive integer.

    Example:

    >>> import tensorflow as tf
    >>> check_token_ids(tf.constant([[1, 4, 0]]), 5).numpy().tolist()
    [[1, 4, 0]]
    >>> try:
    ...     check_token_ids(tf.constant([[1, 5]]), 5)
    ... except tf.errors.InvalidArgumentError as error:
    ...     print(error.message.splitlines()[0].strip())
    token_ids must hold token ids in [0, 5)
    """
    if (
        isinstance(vocabulary_size, bool)
        or not isinstance(vocabulary_size, int)
        or vocabulary_size < 1
    ):
        raise ValueError(
            "vocabulary_size must be a positive integer, got "
            f"{vocabulary_size!r}."
        )
    ids = tf.convert_to_tensor(token_ids)
    if not ids.dtype.is_integer:
        raise TypeError(
            f"{name} must be an integer tensor, got dtype {ids.dtype.name}."
        )
    return _check_range(
        ids,
        vocabulary_size,
        f"{name} must hold token ids in [0, {vocabulary_size})",
    )


def check_positions(positions, token_ids, name="mask_positions"):
    """Returns `positions` after checking each indexes into `token_ids`'
    sequence axis: ``0 <= p < sequence_length`` (a gather would otherwise
    wrap a negative position or fail on a position past the end).

    Args:
        positions: an integer tensor of positions.
        token_ids: a `(batch_size, sequence_length)` tensor.
        name: the input's name, quoted in the error message.

    Returns:
        `positions`, with the check as a control dependency.

    Raises:
        tf.errors.InvalidArgumentError: a position outside
            ``[0, sequence_length)`` (at run time).

    Example:

    >>> import tensorflow as tf
    >>> ids = tf.zeros((1, 4), "int32")
    >>> check_positions(tf.constant([[0, 3]]), ids).numpy().tolist()
    [[0, 3]]
    >>> try:
    ...     check_positions(tf.constant([[4]]), ids)
    ... except tf.errors.InvalidArgumentError as error:
    ...     print(error.message.splitlines()[0].strip())
    mask_positions must hold positions in [0, sequence_length of token_ids)
    """
    positions = tf.convert_to_tensor(positions)
    length = tf.shape(token_ids)[1]
    return _check_range(
        positions,
        length,
        f"{name} must hold positions in [0, sequence_length of token_ids)",
    )


def _check_range(values, upper, message):
    low = tf.debugging.assert_non_negative(values, message=message, summarize=8)
    high = tf.debugging.assert_less(
        values, tf.cast(upper, values.dtype), message=message, summarize=8
    )
    with tf.control_dependencies([low, high]):
        return tf.identity(values)


def check_non_negative(value, name):
    """Returns `value` after checking it is ``>= 0`` (e.g. a length).

    Example:

    >>> import tensorflow as tf
    >>> int(check_non_negative(3, "max_length"))
    3
    >>> try:
    ...     check_non_negative(-1, "max_length")
    ... except tf.errors.InvalidArgumentError as error:
    ...     print(error.message.splitlines()[0].strip())
    max_length must be >= 0.
    """
    value = tf.convert_to_tensor(value)
    check = tf.debugging.assert_non_negative(
        value, message=f"{name} must be >= 0", summarize=8
    )
    with tf.control_dependencies([check]):
        return tf.identity(value)
