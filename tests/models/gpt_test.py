"""Tests for refnn.models.GPT: causality, KV cache, generation, export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn.export import check_parity, export_savedmodel
from refnn.models.gpt import GPT

VOCAB = 23


def _model(**kwargs):
    config = dict(
        vocabulary_size=VOCAB,
        max_length=24,
        num_layers=2,
        hidden_dim=16,
        num_heads=4,
        intermediate_dim=32,
    )
    config.update(kwargs)
    model = GPT(**config)
    model(np.zeros((1, 4), "int32"))
    return model


def _ids(batch, length, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, VOCAB, (batch, length)).astype("int32")


def _incremental_logits(model, ids, prefill):
    """Logits from the KV cache: prefill, then one token per step."""
    cache = model.init_cache(ids.shape[0], ids.shape[1])
    logits, cache = model.call_with_cache(ids[:, :prefill], cache, 0)
    steps = [logits]
    for t in range(prefill, ids.shape[1]):
        logits, cache = model.call_with_cache(ids[:, t : t + 1], cache, t)
        steps.append(logits)
    return np.concatenate([np.asarray(s) for s in steps], axis=1)


def _greedy_without_cache(model, prompt, max_new_tokens):
    """Reference decoding: recompute the whole sequence for every token."""
    ids = np.asarray(prompt)
    for _ in range(max_new_tokens):
        logits = np.asarray(model(ids))
        token = logits[:, -1].argmax(-1).astype("int32")
        ids = np.concatenate([ids, token[:, None]], axis=1)
    return ids


def test_output_shape_and_causality():
    model = _model()
    ids = _ids(3, 10)
    logits = np.asarray(model(ids))
    assert logits.shape == (3, 10, VOCAB)
    changed = ids.copy()
    changed[:, 6] = (changed[:, 6] + 1) % VOCAB
    logits2 = np.asarray(model(changed))
    # Changing token 6 never changes the outputs at positions <= 5 ...
    np.testing.assert_allclose(logits2[:, :6], logits[:, :6], atol=1e-6)
    # ... and does change position 6.
    assert np.abs(logits2[:, 6] - logits[:, 6]).max() > 1e-4


def test_kv_cache_equals_recompute_token_by_token():
    model = _model()
    ids = _ids(2, 12, seed=1)
    full = np.asarray(model(ids))
    for prefill in (1, 5):
        cached = _incremental_logits(model, ids, prefill)
        np.testing.assert_allclose(cached, full, atol=1e-5, rtol=1e-5)


def test_kv_cache_equals_recompute_under_jit():
    model = _model()
    ids = _ids(2, 10, seed=2)
    full = tf.function(lambda x: model(x), jit_compile=True)(ids)

    @tf.function(jit_compile=True)
    def cached_logits(ids):
        cache = model.init_cache(2, 10)
        first, cache = model.call_with_cache(ids[:, :3], cache, 0)
        out = tf.TensorArray(tf.float32, size=7)

        def body(t, cache, out):
            token = tf.slice(ids, [0, t], [2, 1])
            logits, cache = model.call_with_cache(token, cache, t)
            return t + 1, cache, out.write(t - 3, logits[:, 0])

        _, _, out = tf.while_loop(
            lambda t, *_: t < 10, body, (tf.constant(3), cache, out)
        )
        rest = tf.transpose(out.stack(), [1, 0, 2])  # (B, 7, V)
        return tf.concat([first, rest], axis=1)

    np.testing.assert_allclose(
        cached_logits(ids).numpy(), full.numpy(), atol=1e-5, rtol=1e-5
    )


@pytest.mark.large
def test_generate_greedy_equals_recompute():
    model = _model()
    prompt = _ids(2, 4, seed=3)
    expected = _greedy_without_cache(model, prompt, 8)
    for use_cache, jit_compile in ((True, False), (False, False), (True, True)):
        out = model.generate(
            prompt,
            8,
            temperature=0.0,
            use_cache=use_cache,
            jit_compile=jit_compile,
        )
        np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out[:, :4], prompt)


def test_generate_on_a_model_never_called():
    config = dict(vocabulary_size=VOCAB, max_length=8, hidden_dim=8)
    fresh = GPT(num_layers=1, num_heads=2, intermediate_dim=8, **config)
    prompt = _ids(2, 3, seed=5)
    out = fresh.generate(prompt, 4, temperature=0.0)
    assert out.shape == (2, 7)
    np.testing.assert_array_equal(out[:, :3], prompt)
    assert out.min() >= 0 and out.max() < VOCAB


def test_generate_sampling_seeded_and_top_k():
    model = _model()
    prompt = _ids(3, 3, seed=4)
    a = model.generate(prompt, 10, temperature=1.5, top_k=5, seed=7)
    b = model.generate(prompt, 10, temperature=1.5, top_k=5, seed=7)
    c = model.generate(
        prompt, 10, temperature=1.5, top_k=5, seed=7, use_cache=False
    )
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)  # same noise, same tokens
    # top_k=1 keeps only the argmax: sampling becomes greedy.
    np.testing.assert_array_equal(
        model.generate(prompt, 6, temperature=1.0, top_k=1, seed=1),
        model.generate(prompt, 6, temperature=0.0),
    )
    # Every sampled token is among the top 5 of its step's distribution.
    logits = np.asarray(model(a[:, :-1]))[:, 2:]  # predicts tokens 3..12
    ranks = (logits > np.take_along_axis(logits, a[:, 3:, None], -1)).sum(-1)
    assert ranks.max() < 5
    # High-temperature samples vary with the seed.
    d = model.generate(prompt, 10, temperature=1.5, top_k=5, seed=8)
    assert not np.array_equal(a, d)


def test_context_window():
    model = _model(max_length=12)
    prompt = _ids(1, 10, seed=5)
    with pytest.raises(ValueError, match=r"\(10\).*\(4\).*max_length=12"):
        model.generate(prompt, 4)
    out = model.generate(prompt, 4, temperature=0.0, truncate="left")
    assert out.shape == (1, 12)
    np.testing.assert_array_equal(
        out, model.generate(prompt[:, 2:], 4, temperature=0.0)
    )
    with pytest.raises(ValueError, match="no room"):
        model.generate(prompt, 12, truncate="left")
    # A 1-D prompt gives a 1-D result.
    assert model.generate(prompt[0, :3], 2, temperature=0.0).shape == (5,)


def test_invalid_args_raise():
    with pytest.raises(ValueError, match="vocabulary_size"):
        GPT(vocabulary_size=0, max_length=8)
    with pytest.raises(ValueError, match="hidden_dim=10 and num_heads=4"):
        GPT(vocabulary_size=5, max_length=8, hidden_dim=10, num_heads=4)
    with pytest.raises(ValueError, match="dropout"):
        GPT(vocabulary_size=5, max_length=8, dropout=1.0)
    model = _model()
    prompt = _ids(1, 3)
    with pytest.raises(ValueError, match="temperature"):
        model.generate(prompt, 2, temperature=-1.0)
    with pytest.raises(ValueError, match="top_k"):
        model.generate(prompt, 2, top_k=VOCAB + 1)
    with pytest.raises(ValueError, match="truncate"):
        model.generate(prompt, 2, truncate="right")
    with pytest.raises(ValueError, match="max_new_tokens"):
        model.generate(prompt, 0)
    with pytest.raises(ValueError, match="prompt_ids"):
        model.generate(prompt.astype("float32"), 2)


def test_cache_memory_per_token():
    model = _model()
    cache = model.init_cache(1, 10)
    assert tuple(cache.shape) == (1, 2, 2, 10, 4, 4)
    per_token = np.asarray(cache).nbytes / 10
    assert per_token == 2 * 2 * 4 * 4 * 4  # 2 x layers x heads x dim x 4 B


@pytest.mark.large
def test_fit_and_saving_round_trip(tmp_path):
    model = _model(dropout=0.1)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    # A periodic sequence: the model must learn the next token.
    seq = np.tile(np.arange(6, dtype="int32"), 30)
    x = np.stack([seq[i : i + 12] for i in range(0, 96, 3)])
    y = np.stack([seq[i + 1 : i + 13] for i in range(0, 96, 3)])
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    path = tmp_path / "gpt.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert restored.get_config() == model.get_config()
    np.testing.assert_allclose(
        np.asarray(restored(x[:2])), np.asarray(model(x[:2])), atol=1e-6
    )
    np.testing.assert_array_equal(
        restored.generate(x[:2, :3], 5, temperature=0.0),
        model.generate(x[:2, :3], 5, temperature=0.0),
    )


@pytest.mark.large
def test_export_logits_and_generate_in_plain_tensorflow(tmp_path):
    model = _model()
    model.generate(_ids(1, 2), 2, temperature=0.0)  # compiled loops exist
    path = export_savedmodel(model, "gpt", base_dir=tmp_path)
    cases, expected = [], []
    for batch, length in ((1, 3), (4, 7)):
        ids = _ids(batch, length, seed=batch)
        cases.append({"token_ids": ids})
        expected.append(
            {
                "logits": np.asarray(model(ids)),
                "next_token": np.asarray(model(ids))[:, -1].argmax(-1),
            }
        )
    check_parity(path, cases, expected)
    cases, expected = [], []
    for batch, length, new in ((1, 2, 5), (3, 6, 9)):
        prompt = _ids(batch, length, seed=10 + batch)
        cases.append({"prompt_ids": prompt, "max_new_tokens": np.int32(new)})
        expected.append(
            {"token_ids": model.generate(prompt, new, temperature=0.0)}
        )
    check_parity(path, cases, expected, endpoint="generate")
