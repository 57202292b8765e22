"""Every refnn model: saved after `fit` and reloaded exactly; trained under
both mixed-precision policies with a float32 head; decoding under them."""

import keras
import numpy as np
import pytest

from refnn import models

N = 16
SCCE_LOGITS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
TINY = dict(num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16)


def _ids(shape, low, high, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(low, high, shape).astype("int32")


def _bert_encoder():
    return models.BertEncoder(
        vocabulary_size=20,
        max_length=8,
        **TINY,
    )


def _case(name):
    """(model, x, y, compile kwargs, decode(model) or None) for `name`."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(N, 4)).astype("float32")
    classes = _ids((N,), 0, 3)
    if name == "perceptron":
        y = (features[:, 0] > 0).astype("float32")
        return models.Perceptron(), features, y, {}, None
    if name == "logistic_regression":
        model = models.LogisticRegression(num_classes=3)
        return model, features, classes, {"optimizer": "sgd"}, None
    if name == "mlp":
        model = models.MLP(
            [6, 3], output_activation="softmax", loss="categorical_crossentropy"
        )
        y = np.eye(3, dtype="float32")[classes]
        return model, features, y, {"optimizer": "sgd"}, None
    seq = dict(optimizer="adam", loss=SCCE_LOGITS)
    if name == "rnn_classifier":
        model = models.RNNClassifier(20, 2, embedding_dim=6, units=5)
        return (
            model,
            _ids((N, 7), 1, 20),
            classes % 2,
            dict(optimizer="adam", loss="sparse_categorical_crossentropy"),
            None,
        )
    if name == "char_language_model":
        model = models.CharLanguageModel("abc ", embedding_dim=4, units=8)
        ids = _ids((N, 7), 5, 9)
        return (
            model,
            ids[:, :-1],
            ids[:, 1:],
            seq,
            lambda m: m.sample("ab", length=4, temperature=0),
        )
    if name == "seq2seq":
        model = models.Seq2Seq(
            "0123456789", "abc", embedding_dim=8, units=8, max_decode_length=5
        )
        x = {
            "encoder_inputs": _ids((N, 6), 5, 15),
            "decoder_inputs": _ids((N, 5), 1, 8),
        }
        decode = lambda m: m.greedy_decode(x["encoder_inputs"][:2])  # noqa: E731
        return model, x, _ids((N, 5), 1, 8), seq, decode
    if name == "transformer":
        model = models.Transformer(
            encoder_vocabulary_size=20,
            decoder_vocabulary_size=20,
            encoder_max_length=8,
            decoder_max_length=6,
            **TINY,
        )
        x = {
            "encoder_inputs": _ids((N, 8), 5, 20),
            "decoder_inputs": _ids((N, 6), 5, 20),
        }

        def decode(m):
            return m.greedy_decode(x["encoder_inputs"][:2], max_length=4)

        return model, x, _ids((N, 6), 5, 20), seq, decode
    if name == "gpt":
        model = models.GPT(vocabulary_size=20, max_length=8, **TINY)
        ids = _ids((N, 9), 0, 20)
        decode = lambda m: m.generate(ids[:2, :3], 3, seed=1)  # noqa: E731
        return model, ids[:, :-1], ids[:, 1:], seq, decode
    if name == "bert_classifier":
        model = models.BertClassifier(_bert_encoder(), num_classes=2)
        return model, _ids((N, 8), 5, 20), classes % 2, seq, None
    if name == "bert_masked_lm":
        model = models.BertMaskedLM(_bert_encoder())
        x = {
            "token_ids": _ids((N, 8), 5, 20),
            "mask_positions": _ids((N, 2), 0, 8),
        }
        return model, x, _ids((N, 2), 5, 20), seq, None
    raise ValueError(name)


NAMES = [
    "perceptron",
    "logistic_regression",
    "mlp",
    "rnn_classifier",
    "char_language_model",
    "seq2seq",
    "transformer",
    "gpt",
    "bert_classifier",
    "bert_masked_lm",
]


def _fit(model, x, y, compile_kwargs):
    model.compile(**compile_kwargs)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    return history.history


def _first(x):
    return {k: v[:4] for k, v in x.items()} if isinstance(x, dict) else x[:4]


@pytest.mark.parametrize("name", NAMES)
def test_save_after_fit_reloads_exactly(name, tmp_path):
    model, x, y, compile_kwargs, _ = _case(name)
    assert not model.built or name.startswith("bert")
    _fit(model, x, y, compile_kwargs)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert len(loaded.weights) == len(model.weights)
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(_first(x))),
        keras.ops.convert_to_numpy(model(_first(x))),
    )


@pytest.fixture
def global_policy(request):
    keras.config.set_dtype_policy(request.param)
    try:
        yield request.param
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.large
@pytest.mark.parametrize(
    "global_policy", ["mixed_float16", "mixed_bfloat16"], indirect=True
)
@pytest.mark.parametrize("name", NAMES)
def test_mixed_policy_trains_with_a_float32_head(name, global_policy):
    model, x, y, compile_kwargs, decode = _case(name)
    assert model.dtype_policy.name == global_policy
    logs = _fit(model, x, y, compile_kwargs)
    assert all(np.isfinite(v).all() for v in logs.values()), logs
    out = model(_first(x))
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    if decode is not None:
        decoded = decode(model)
        assert len(decoded) == 2 or isinstance(decoded, str)
