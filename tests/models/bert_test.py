"""Tests for BertEncoder, BertMaskedLM, BertClassifier and mask_tokens."""

import keras
import numpy as np
import pytest

from refnn.export import check_parity, export_savedmodel
from refnn.models.bert_classifier import BertClassifier
from refnn.models.bert_encoder import BertEncoder
from refnn.models.bert_masked_lm import BertMaskedLM
from refnn.models.bert_masking import mask_tokens
from refnn.training import FreezeSchedule

VOCAB = 30


def _encoder(**kwargs):
    config = dict(
        vocabulary_size=VOCAB,
        max_length=16,
        num_layers=2,
        hidden_dim=16,
        num_heads=4,
        intermediate_dim=32,
        dropout=0.0,
    )
    config.update(kwargs)
    encoder = BertEncoder(**config)
    encoder.build()
    return encoder


def _ids(batch, length, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, VOCAB, (batch, length)).astype("int32")
    ids[:, 0] = 2  # [SOS] in the [CLS] role
    return ids


def test_mask_tokens_80_10_10():
    ids = _ids(400, 50, seed=1)
    ids[:, 40:] = 0  # padding is never selected
    out = mask_tokens(ids, VOCAB, seed=0, max_predictions=30)
    selected = np.zeros(ids.shape, bool)
    rows = np.repeat(np.arange(400), 30)
    used = out["mask_weights"].reshape(-1) > 0
    selected[rows[used], out["mask_positions"].reshape(-1)[used]] = True
    ordinary = ids >= 5
    assert not selected[~ordinary].any()
    rate = selected.sum() / ordinary.sum()
    assert abs(rate - 0.15) < 0.01
    # Labels are the original tokens at the selected positions.
    np.testing.assert_array_equal(
        np.take_along_axis(ids, out["mask_positions"], 1)[
            out["mask_weights"] > 0
        ],
        out["mask_ids"][out["mask_weights"] > 0],
    )
    corrupted = out["token_ids"]
    np.testing.assert_array_equal(corrupted[~selected], ids[~selected])
    n = selected.sum()
    masked = (corrupted[selected] == 4).sum() / n
    unchanged = (corrupted[selected] == ids[selected]).sum() / n
    replaced = 1.0 - masked - unchanged
    assert abs(masked - 0.8) < 0.03
    # Random draws may hit the original token (1 in 25 ordinary ids).
    assert abs(unchanged - (0.1 + 0.1 / 25)) < 0.03
    assert abs(replaced - 0.1 * 24 / 25) < 0.03
    assert corrupted[selected].min() >= 4  # never padding/[SOS]/...
    # At most max_predictions per row.
    few = mask_tokens(ids, VOCAB, mask_rate=1.0, max_predictions=3, seed=0)
    assert (few["mask_weights"].sum(1) == 3).all()
    assert ((few["token_ids"] != ids).sum(1) <= 3).all()


def test_mask_tokens_invalid_args():
    with pytest.raises(ValueError, match="mask_rate"):
        mask_tokens(_ids(2, 5), VOCAB, mask_rate=0.0)
    with pytest.raises(ValueError, match="token_ids"):
        mask_tokens(np.zeros((2, 3), "float32"), VOCAB)
    with pytest.raises(ValueError, match="max_predictions"):
        mask_tokens(_ids(2, 5), VOCAB, max_predictions=0)


def test_encoder_is_bidirectional_and_masks_padding():
    encoder = _encoder()
    ids = _ids(2, 10)
    out = encoder(ids)
    assert out["sequence_output"].shape == (2, 10, 16)
    assert out["pooled_output"].shape == (2, 16)
    # Padding at the end changes nothing for the real tokens.
    padded = np.concatenate([ids, np.zeros((2, 4), "int32")], axis=1)
    out_padded = encoder(padded)
    np.testing.assert_allclose(
        np.asarray(out_padded["sequence_output"])[:, :10],
        np.asarray(out["sequence_output"]),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        out_padded["pooled_output"], out["pooled_output"], atol=1e-5
    )
    # Bidirectional: a later token changes the [CLS] vector.
    changed = ids.copy()
    changed[:, 8] = (changed[:, 8] - 4) % (VOCAB - 5) + 5
    assert (
        np.abs(
            np.asarray(encoder(changed)["pooled_output"])
            - np.asarray(out["pooled_output"])
        ).max()
        > 1e-4
    )


def test_invalid_args_raise():
    with pytest.raises(ValueError, match="hidden_dim=10 and num_heads=4"):
        _encoder(hidden_dim=10)
    with pytest.raises(TypeError, match="BertEncoder"):
        BertMaskedLM(keras.layers.Dense(3))
    with pytest.raises(ValueError, match="num_classes"):
        BertClassifier(_encoder(), num_classes=1)


def _structured(n, length, seed):
    """Rows of a repeated 3-token motif: masked tokens are predictable."""
    rng = np.random.default_rng(seed)
    motifs = rng.integers(5, VOCAB, (n, 3))
    ids = np.tile(motifs, (1, length // 3 + 1))[:, :length].astype("int32")
    ids[:, 0] = 2
    return ids


@pytest.mark.large
def test_masked_lm_learns_and_round_trips(tmp_path):
    encoder = _encoder()
    mlm = BertMaskedLM(encoder)
    data = mask_tokens(_structured(512, 13, seed=0), VOCAB, seed=0)
    x = {k: data[k] for k in ("token_ids", "mask_positions")}
    mlm.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        ),
    )
    history = mlm.fit(
        x,
        data["mask_ids"],
        sample_weight=data["mask_weights"],
        epochs=10,
        batch_size=32,
        verbose=0,
    )
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    test = mask_tokens(_structured(200, 13, seed=1), VOCAB, seed=1)
    logits = np.asarray(
        mlm({k: test[k] for k in ("token_ids", "mask_positions")})
    )
    hits = (logits.argmax(-1) == test["mask_ids"]) * test["mask_weights"]
    accuracy = hits.sum() / test["mask_weights"].sum()
    assert accuracy > 0.5  # chance is 1/25

    path = tmp_path / "mlm.keras"
    mlm.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        restored({k: test[k][:4] for k in ("token_ids", "mask_positions")}),
        logits[:4],
        atol=1e-5,
    )

    export = export_savedmodel(mlm, "bert_mlm", base_dir=tmp_path)
    cases = [
        {
            "token_ids": test["token_ids"][:1],
            "mask_positions": test["mask_positions"][:1],
        },
        {  # another batch size, sequence length and number of predictions
            "token_ids": test["token_ids"][:3, :9],
            "mask_positions": np.minimum(test["mask_positions"][:3, :2], 8),
        },
    ]
    expected = []
    for case in cases:
        out = np.asarray(mlm(case))
        expected.append({"logits": out, "predicted_ids": out.argmax(-1)})
    check_parity(export, cases, expected)


@pytest.mark.large
def test_classifier_freeze_schedule_and_export(tmp_path):
    encoder = _encoder()
    model = BertClassifier(encoder, num_classes=2, dropout=0.0)
    assert model.layers[0] is encoder  # what FreezeSchedule freezes
    ids = _ids(128, 12, seed=3)
    labels = (ids[:, 1:] > 17).sum(1) > 5  # a global property of the row
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model(ids[:2])
    before = [keras.ops.convert_to_numpy(w) for w in encoder.weights]
    head_before = keras.ops.convert_to_numpy(model.head.kernel)
    model.fit(
        ids,
        labels.astype("int32"),
        epochs=1,
        batch_size=32,
        verbose=0,
        callbacks=[FreezeSchedule(up_to=encoder.name, epochs=1)],
    )
    # Frozen phase: encoder unchanged, head trained.
    for w, b in zip(encoder.weights, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), b)
    assert (
        np.abs(
            keras.ops.convert_to_numpy(model.head.kernel) - head_before
        ).max()
        > 0
    )
    model.fit(
        ids,
        labels.astype("int32"),
        epochs=1,
        batch_size=32,
        verbose=0,
        callbacks=[FreezeSchedule(up_to=encoder.name, epochs=0)],
    )
    assert encoder.trainable
    assert any(
        np.abs(keras.ops.convert_to_numpy(w) - b).max() > 0
        for w, b in zip(encoder.weights, before)
    )

    path = tmp_path / "clf.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(restored(ids[:4]), model(ids[:4]), atol=1e-5)

    export = export_savedmodel(model, "bert_classifier", base_dir=tmp_path)
    cases = [{"token_ids": ids[:1]}, {"token_ids": ids[:5, :9]}]
    expected = []
    for case in cases:
        probs = keras.ops.softmax(model(case["token_ids"]), axis=-1)
        probs = np.asarray(probs)
        expected.append({"probabilities": probs, "label": probs.argmax(-1)})
    check_parity(export, cases, expected)
