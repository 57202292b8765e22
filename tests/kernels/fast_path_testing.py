"""Helper shared by the fast-path tests (not a test module)."""

import numpy as np
import tensorflow as tf

from refnn import config


def run_both_paths(layer, fn, inputs, grads=True):
    """`fn(layer, *inputs)` with the fast path on and off: outputs and the
    gradients of a fixed random projection of them with respect to the
    float inputs and the layer's trainable weights."""
    results = []
    for enabled in [True, False]:
        with config.fast_path(enabled):
            xs = [tf.constant(x) for x in inputs]
            with tf.GradientTape() as tape:
                for x in xs:
                    if x.dtype.is_floating:
                        tape.watch(x)
                outs = tf.nest.flatten(fn(layer, *xs))
                rng = np.random.default_rng(3)
                loss = sum(
                    tf.reduce_sum(
                        tf.cast(o, "float32")
                        * rng.normal(size=o.shape).astype("float32")
                    )
                    for o in outs
                    if o.dtype.is_floating
                )
            sources = [x for x in xs if x.dtype.is_floating]
            sources += list(layer.trainable_variables)
            found = tape.gradient(loss, sources) if grads else []
            results.append(
                (
                    [o.numpy() for o in outs],
                    [None if g is None else g.numpy() for g in found],
                )
            )
    return results


def assert_paths_equal(test, layer, fn, inputs, atol=1e-5, grads=True):
    """The fast path's outputs (and gradients unless `grads=False`) equal
    the reference path's."""
    (fast_out, fast_grads), (ref_out, ref_grads) = run_both_paths(
        layer, fn, inputs, grads
    )
    test.assertEqual(len(fast_out), len(ref_out))
    for a, b in zip(fast_out, ref_out):
        test.assertAllClose(a, b, atol=atol, rtol=atol)
    for a, b in zip(fast_grads, ref_grads):
        test.assertEqual(a is None, b is None)
        if a is not None:
            test.assertAllClose(a, b, atol=atol, rtol=atol)
