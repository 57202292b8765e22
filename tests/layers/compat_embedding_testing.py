"""keras-hub position/embedding-layer behaviours run against a refnn twin
(not a test module): the constructor surface, keras-hub configs, mixed
precision, functional models, `TimeDistributed`, `.keras` and SavedModel
round trips."""

import inspect
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf


def _arguments(cls):
    return [
        p
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and p.kind is not p.VAR_KEYWORD
    ]


def check_constructor_surface(test, ours_cls, theirs_cls):
    """keras-hub's arguments are refnn's first ones: same names, same order
    (positional calls mean the same), same defaults; refnn's extra
    arguments are optional and come after them."""
    ours, theirs = _arguments(ours_cls), _arguments(theirs_cls)
    test.assertEqual(
        [p.name for p in ours[: len(theirs)]], [p.name for p in theirs]
    )
    for mine, twin in zip(ours, theirs):
        test.assertEqual(mine.default, twin.default, msg=mine.name)
    for extra in ours[len(theirs) :]:
        test.assertIsNot(extra.default, extra.empty, msg=extra.name)
    for cls in [ours_cls, theirs_cls]:
        kinds = [p.kind for p in inspect.signature(cls).parameters.values()]
        test.assertIn(inspect.Parameter.VAR_KEYWORD, kinds)


def check_twin_config_loads(test, ours_cls, theirs):
    """A keras-hub layer's config builds refnn's layer with the same
    values (a saved keras-hub config is a valid refnn config)."""
    config = theirs.get_config()
    ours = ours_cls.from_config(config)
    mine = ours.get_config()
    for key, value in config.items():
        test.assertEqual(mine[key], value, msg=key)
    return ours


def copy_pair(ours_cls, theirs_cls, x, *args, **kwargs):
    """Both layers called on `x`, keras-hub's weights copied into refnn's."""
    theirs = theirs_cls(*args, **kwargs)
    ours = ours_cls(*args, **kwargs)
    theirs(x)
    ours(x)
    test_shapes = [w.shape for w in ours.weights]
    if test_shapes != [w.shape for w in theirs.weights]:
        raise AssertionError(
            f"weight shapes differ: {test_shapes} vs "
            f"{[w.shape for w in theirs.weights]}"
        )
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def check_mixed_precision(test, make_layer, x, reference):
    """Under `mixed_float16` and `mixed_bfloat16` the eager output, the
    symbolic output of `compute_output_spec` and a functional model's
    output have the compute dtype and the same shape; the values are the
    float32 `reference` to the precision of that dtype."""
    dtype = keras.backend.standardize_dtype(x.dtype)
    for policy in ["mixed_float16", "mixed_bfloat16"]:
        with test.subTest(policy=policy):
            layer = make_layer(policy)
            eager = layer(x)
            spec = layer.compute_output_spec(keras.KerasTensor(x.shape, dtype))
            inputs = keras.Input(x.shape[1:], dtype=dtype)
            symbolic = layer(inputs)
            want = policy[len("mixed_") :]
            for out in [eager, spec, symbolic]:
                test.assertEqual(
                    keras.backend.standardize_dtype(out.dtype), want
                )
            test.assertEqual(tuple(spec.shape), tuple(eager.shape))
            test.assertEqual(tuple(symbolic.shape[1:]), tuple(eager.shape[1:]))
            model_out = keras.Model(inputs, symbolic)(x)
            test.assertEqual(
                keras.backend.standardize_dtype(model_out.dtype), want
            )
            got = keras.ops.convert_to_numpy(keras.ops.cast(eager, "float32"))
            test.assertAllClose(got, reference, atol=2e-2, rtol=2e-2)


def check_functional_and_time_distributed(test, ours, theirs, x, combine):
    """The same layers (weights copied) in a functional model and under
    `TimeDistributed` give keras-hub's numbers."""
    dtype = keras.backend.standardize_dtype(x.dtype)
    for variable_length in [False, True]:
        shape = list(x.shape[1:])
        if variable_length:
            shape[0] = None
        outputs = []
        for layer in [ours, theirs]:
            inputs = keras.Input(tuple(shape), dtype=dtype)
            model = keras.Model(inputs, combine(inputs, layer))
            outputs.append(model(x))
        with test.subTest(variable_length=variable_length):
            test.assertAllClose(outputs[0], outputs[1])
    stacked = np.stack([x, x[::-1]], axis=1)  # (B, 2, ...)
    got = keras.layers.TimeDistributed(ours)(stacked)
    want = keras.layers.TimeDistributed(theirs)(stacked)
    test.assertEqual(tuple(got.shape), tuple(want.shape))
    test.assertAllClose(got, want)


def check_saving(test, layer, x, combine):
    """A functional model holding `layer`: `.keras` and SavedModel round
    trips reproduce its outputs."""
    dtype = keras.backend.standardize_dtype(x.dtype)
    inputs = keras.Input(x.shape[1:], dtype=dtype)
    model = keras.Model(inputs, combine(inputs, layer))
    want = keras.ops.convert_to_numpy(model(x))
    folder = tempfile.mkdtemp(prefix="refnn-test-")
    path = os.path.join(folder, "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    test.assertIs(type(restored.layers[1]), type(layer))
    test.assertAllClose(restored(x), want)
    export = os.path.join(folder, "savedmodel")
    model.export(export, format="tf_saved_model", verbose=False)
    reloaded = tf.saved_model.load(export)
    test.assertAllClose(reloaded.serve(tf.constant(x)).numpy(), want)


def gradients(loss, variables):
    """d loss() / d variables as NumPy arrays, under TensorFlow or JAX."""
    if keras.backend.backend() == "jax":
        import jax

        def stateless_loss(values):
            with keras.StatelessScope(
                state_mapping=list(zip(variables, values))
            ):
                return loss()

        grads = jax.grad(stateless_loss)([v.value for v in variables])
    else:
        with tf.GradientTape() as tape:
            value = loss()
        grads = tape.gradient(value, variables)
    return [keras.ops.convert_to_numpy(g) for g in grads]
