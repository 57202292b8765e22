"""keras-hub Transformer-block behaviours run against refnn's twins on
both refnn paths (not a test module)."""

import os
import tempfile

import keras
import numpy as np

from refnn import config


def twins(ours_cls, theirs_cls, build, **kwargs):
    """Both blocks built by `build(layer)`, keras-hub's weights copied."""
    theirs = theirs_cls(**kwargs)
    ours = ours_cls(**kwargs)
    build(theirs)
    build(ours)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def assert_both_paths_equal(test, ours, theirs, call):
    want = call(theirs)
    for enabled in [True, False]:
        with config.fast_path(enabled), test.subTest(fast_path=enabled):
            test.assertAllClose(call(ours), want, atol=1e-5, rtol=1e-5)


def check_mixed_precision_functional(test, ours_cls, inputs, call):
    """Symbolic outputs have the dtype of the eager ones; a functional
    model trains (what `Bidirectional`-style wrappers and `Model`s need)."""
    for policy in ["mixed_float16", "mixed_bfloat16"]:
        layer = ours_cls(16, 2, dtype=policy)
        symbolic = [keras.Input(x.shape[1:]) for x in inputs]
        y = call(layer, *symbolic)
        eager = call(layer, *inputs)
        with test.subTest(policy=policy):
            test.assertEqual(y.dtype, eager.dtype)
            test.assertEqual(
                keras.backend.standardize_dtype(y.dtype), policy[6:]
            )
            model = keras.Model(symbolic, y)
            model.compile("sgd", "mse")
            target = np.zeros((len(inputs[0]),) + tuple(y.shape[1:]))
            model.fit(list(inputs), target, verbose=0)


def check_keras_saving(test, ours_cls, inputs, call):
    symbolic = [keras.Input(x.shape[1:]) for x in inputs]
    model = keras.Model(symbolic, call(ours_cls(16, 2, dropout=0.1), *symbolic))
    path = os.path.join(tempfile.mkdtemp(), "block.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    test.assertAllClose(restored(list(inputs)), model(list(inputs)), atol=1e-6)
