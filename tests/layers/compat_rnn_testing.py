"""Keras's RNN-layer behaviours, run against a refnn twin (not a test
module). Each check builds the refnn layer and Keras's with the same
weights and asserts the behaviour Keras's own tests and documentation
describe: statefulness, `Bidirectional`, `keras.layers.RNN(cell)`,
`TimeDistributed`, functional models and saving, `zero_output_for_mask`,
`unroll`, `use_cudnn` / `implementation`."""

import os
import tempfile

import keras
import numpy as np
from rnn_testing import copy_pair

CONSTANT_INIT = dict(
    kernel_initializer=keras.initializers.Constant(0.01),
    recurrent_initializer=keras.initializers.Constant(0.02),
    bias_initializer=keras.initializers.Constant(0.03),
)


def _pair(ours_cls, keras_cls, x, **kwargs):
    return copy_pair(ours_cls, keras_cls, kwargs, x)


def check_keras_numbers(test, ours_cls, kwargs, x, expected, **call_kwargs):
    """Keras's own expected values (from its test suite) with constant
    initializers."""
    layer = ours_cls(**CONSTANT_INIT, **kwargs)
    test.assertAllClose(layer(x, **call_kwargs), expected, atol=1e-5)


def check_stateful(test, ours_cls, keras_cls):
    x = np.arange(24).reshape((2, 3, 4)).astype("float32") / 24
    ours, theirs = _pair(ours_cls, keras_cls, x, units=3, stateful=True)
    ours.reset_states()
    theirs.reset_state()
    for _ in range(3):  # the states carry over from call to call
        test.assertAllClose(ours(x), theirs(x), atol=1e-5)
    test.assertEqual(len(ours.states), len(theirs.states))
    test.assertAllClose(ours.states, theirs.states, atol=1e-5)
    ours.reset_states()
    theirs.reset_state()
    test.assertAllClose(ours.states, np.zeros_like(ours.states))
    test.assertAllClose(ours(x), theirs(x), atol=1e-5)
    # Not weights: saved by neither, copied by neither.
    test.assertEqual(len(ours.weights), len(theirs.weights))
    with test.assertRaisesRegex(ValueError, "static batch size"):
        keras.Sequential([keras.Input((3, 4)), ours_cls(3, stateful=True)])
    with test.assertRaisesRegex(ValueError, "batch size 2"):
        ours(np.concatenate([x, x]))


def check_stateful_training(test, ours_cls, keras_cls):
    """`fit` with `shuffle=False` on a stateful model: same losses."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 5, 3)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    models = [
        keras.Sequential(
            [
                keras.Input((5, 3), batch_size=4),
                cls(4, stateful=True),
                keras.layers.Dense(1),
            ]
        )
        for cls in [ours_cls, keras_cls]
    ]
    models[0].set_weights(models[1].get_weights())
    losses = []
    for model in models:
        model.compile("sgd", "mse")
        history = model.fit(
            x, y, batch_size=4, epochs=2, shuffle=False, verbose=0
        )
        losses.append(history.history["loss"])
    test.assertAllClose(losses[0], losses[1], atol=1e-5)


def check_bidirectional(test, ours_cls, keras_cls):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = False
    for return_sequences in [False, True]:
        kwargs = dict(units=3, return_state=True)
        kwargs["return_sequences"] = return_sequences
        ours = keras.layers.Bidirectional(ours_cls(**kwargs))
        theirs = keras.layers.Bidirectional(keras_cls(**kwargs))
        theirs(x)
        ours(x)
        ours.set_weights(theirs.get_weights())
        got, want = ours(x, mask=mask), theirs(x, mask=mask)
        test.assertEqual(len(got), len(want))
        test.assertAllClose(got, want, atol=1e-5)
        # Bidirectional forces zero_output_for_mask = return_sequences.
        test.assertEqual(
            ours.forward_layer.zero_output_for_mask, return_sequences
        )


def check_zero_output_for_mask(test, ours_cls, keras_cls):
    x = np.random.default_rng(2).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, True], [False, True, True, False]])
    kwargs = dict(units=3, return_sequences=True, zero_output_for_mask=True)
    ours, theirs = _pair(ours_cls, keras_cls, x, **kwargs)
    got = ours(x, mask=mask)
    test.assertAllClose(got, theirs(x, mask=mask), atol=1e-5)
    test.assertAllClose(np.asarray(got)[~mask], np.zeros((3, 3)))
    test.assertTrue(ours.get_config()["zero_output_for_mask"])


def check_unroll(test, ours_cls, keras_cls):
    x = np.random.default_rng(3).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    kwargs = dict(units=3, return_sequences=True, unroll=True)
    ours, theirs = _pair(ours_cls, keras_cls, x, **kwargs)
    test.assertAllClose(ours(x, mask=mask), theirs(x, mask=mask), atol=1e-5)


def check_cell_in_keras_rnn(test, ours_cell_cls, keras_cell_cls):
    x = np.random.default_rng(4).normal(size=(2, 4, 3)).astype("float32")
    ours = keras.layers.RNN(ours_cell_cls(3), return_sequences=True)
    theirs = keras.layers.RNN(keras_cell_cls(3), return_sequences=True)
    theirs(x)
    ours(x)
    ours.set_weights(theirs.get_weights())
    test.assertAllClose(ours(x), theirs(x), atol=1e-5)
    stacked = keras.layers.RNN([ours_cell_cls(3), ours_cell_cls(2)])
    test.assertEqual(tuple(stacked(x).shape), (2, 2))


def check_time_distributed(test, ours_cls, keras_cls):
    x = np.random.default_rng(5).normal(size=(2, 3, 4, 5)).astype("float32")
    ours = keras.layers.TimeDistributed(ours_cls(3))
    theirs = keras.layers.TimeDistributed(keras_cls(3))
    theirs(x)
    ours(x)
    ours.set_weights(theirs.get_weights())
    test.assertAllClose(ours(x), theirs(x), atol=1e-5)


def check_functional_model_and_saving(test, ours_cls):
    inputs = keras.Input((None, 4))
    seq, *states = ours_cls(3, return_sequences=True, return_state=True)(inputs)
    outputs = ours_cls(2)(seq, initial_state=None)
    model = keras.Model(inputs, [outputs, *states])
    x = np.random.default_rng(6).normal(size=(2, 5, 4)).astype("float32")
    before = model(x)
    path = os.path.join(tempfile.mkdtemp(), "model.keras")
    model.save(path)
    after = keras.saving.load_model(path)(x)
    test.assertAllClose(after, before, atol=1e-6)


def check_backend_arguments(test, ours_cls, keras_cls):
    """`use_cudnn` ("auto"/False) and `implementation` (1/2) change how
    Keras computes, not what: accepted, same numbers, kept in config."""
    x = np.random.default_rng(7).normal(size=(2, 4, 3)).astype("float32")
    for kwargs in [
        dict(use_cudnn=False, implementation=1),
        dict(use_cudnn="auto", implementation=2),
    ]:
        ours, theirs = _pair(ours_cls, keras_cls, x, units=3, **kwargs)
        test.assertAllClose(ours(x), theirs(x), atol=1e-5)
        config = ours.get_config()
        test.assertEqual(config["use_cudnn"], kwargs["use_cudnn"])
        test.assertEqual(config["implementation"], kwargs["implementation"])
    with test.assertRaisesRegex(ValueError, "use_cudnn=True"):
        ours_cls(3, use_cudnn=True)


def check_no_rng_state_without_dropout(test, ours_cls):
    layer = ours_cls(3)
    layer(np.ones((1, 2, 3), "float32"))
    test.assertIsNone(layer.cell.seed_generator)
    test.assertEqual(layer.non_trainable_variables, [])
    dropped = ours_cls(3, dropout=0.1)
    test.assertIsNotNone(dropped.cell.seed_generator)
