"""Output layers (heads) in float32 under mixed precision.

The Keras mixed-precision guide keeps the layer that produces logits or
probabilities in float32: a softmax over a large vocabulary in float16
overflows or loses the small probabilities. Every refnn model takes a
`head_dtype` argument resolved here.
"""

import keras


def head_policy(model, head_dtype):
    """The dtype policy of a model's output (head) computation.

    `head_dtype=None` gives float32 when the model's policy computes in
    float16/bfloat16 (the Keras mixed-precision guide: keep the softmax
    and the logits in float32) and the model's own policy otherwise; any
    other value is used as given.
    """
    if head_dtype is not None:
        return keras.DTypePolicy(head_dtype)
    if model.dtype_policy.compute_dtype in ("float16", "bfloat16"):
        return keras.DTypePolicy("float32")
    return model.dtype_policy


def check_head_dtype(head_dtype):
    """Validates a `head_dtype` argument (None or a float dtype name)."""
    if head_dtype is None:
        return None
    if head_dtype not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(
            "head_dtype must be None or one of 'float16', 'bfloat16', "
            f"'float32', 'float64', got {head_dtype!r}."
        )
    return head_dtype


def apply_head(layer, x):
    """Calls a head layer so it computes in its own dtype policy.

    Through `Layer.__call__`, which casts `x` to the layer's compute dtype
    and reads its variables unrounded (a float32 head in a float16 model).
    """
    return layer(x)
