"""Helpers shared by the SimpleRNN / LSTM / GRU tests (not a test module)."""

import keras
import numpy as np
import tensorflow as tf


def padded_mask(batch_size, seq_len):
    """Rows: left-padded, right-padded, fully masked, then unmasked."""
    mask = np.ones((batch_size, seq_len), bool)
    mask[0, : seq_len // 2] = False  # left padding
    mask[1, seq_len - 2 :] = False  # right padding
    mask[2, :] = False  # fully masked row
    return mask


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def copy_pair(ours_cls, keras_cls, kwargs, x):
    """Builds both layers on `x` and copies Keras's weights into refnn's."""
    theirs = keras_cls(**kwargs)
    ours = ours_cls(**kwargs)
    theirs(x)
    ours(x)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def as_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def outputs_and_grads(layer, x, initial_state=None, mask=None):
    """Outputs, and grads of a fixed random projection of them w.r.t.
    the inputs, the initial states and the trainable weights."""
    x = tf.constant(x)
    states = None
    if initial_state is not None:
        states = [tf.constant(s) for s in initial_state]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        if states is not None:
            tape.watch(states)
        outs = as_list(layer(x, initial_state=states, mask=mask))
        rng = np.random.default_rng(7)
        loss = sum(
            tf.reduce_sum(o * rng.normal(size=o.shape).astype("float32"))
            for o in outs
        )
    sources = [x] + (states or []) + list(layer.trainable_variables)
    grads = tape.gradient(loss, sources)
    return [o.numpy() for o in outs], [g.numpy() for g in grads]


def assert_layer_matches(test, ours, theirs, x, initial_state=None, mask=None):
    ours_out, ours_grads = outputs_and_grads(ours, x, initial_state, mask)
    keras_out, keras_grads = outputs_and_grads(theirs, x, initial_state, mask)
    test.assertEqual(len(ours_out), len(keras_out))
    test.assertAllClose(ours_out, keras_out, atol=1e-5, rtol=1e-5)
    test.assertAllClose(ours_grads, keras_grads, atol=1e-5, rtol=1e-5)
    for g in ours_grads:
        test.assertFalse(np.isnan(g).any())


def check_dropout(test, layer_cls, kwargs, x):
    """Inference ignores dropout; training uses it and the layer trains."""
    plain = layer_cls(**kwargs)
    dropped = layer_cls(**kwargs, dropout=0.5, recurrent_dropout=0.3, seed=1)
    plain(x)
    dropped(x)
    dropped.set_weights(plain.get_weights())
    test.assertAllClose(dropped(x, training=False), plain(x), atol=1e-6)
    test.assertAllClose(dropped(x), plain(x), atol=1e-6)
    train_out = dropped(x, training=True).numpy()
    test.assertGreater(np.abs(train_out - plain(x).numpy()).max(), 1e-3)

    model = keras.Sequential([keras.Input(x.shape[1:]), dropped])
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    y = x[:, :, :1].sum(axis=1)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=len(x), verbose=0)
    after = model.evaluate(x, y, verbose=0)
    test.assertLess(after, 0.7 * before)


def assert_fused_matches_autodiff(test, layer, x, mask=None):
    """The hand-written backward pass equals autodiff through the loop,
    in training mode with dropout and recurrent dropout (same masks)."""
    layer(x)
    generator = layer.cell.seed_generator
    start = generator.state.numpy()
    results = []
    for fused in [True, False]:
        layer.use_fused_gradient = fused
        generator.state.assign(start)  # the same dropout masks
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            outs = as_list(layer(xt, mask=mask, training=True))
            rng = np.random.default_rng(3)
            loss = sum(
                tf.reduce_sum(o * rng.normal(size=o.shape).astype("float32"))
                for o in outs
            )
        grads = tape.gradient(loss, [xt] + list(layer.trainable_variables))
        results.append(([o.numpy() for o in outs], [g.numpy() for g in grads]))
    test.assertAllClose(results[0][0], results[1][0], atol=1e-5, rtol=1e-5)
    test.assertAllClose(results[0][1], results[1][1], atol=1e-5, rtol=1e-5)
