"""Tests for refnn.models.Transformer (encoder-decoder)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn.data.seq2seq_tasks import (
    date_tokenizers,
    encode_pairs,
    exact_match,
    make_date_translation,
)
from refnn.export import check_parity, export_savedmodel
from refnn.models.transformer import Transformer

SRC_VOCAB, TGT_VOCAB = 19, 11


def _model(**kwargs):
    config = dict(
        encoder_vocabulary_size=SRC_VOCAB,
        decoder_vocabulary_size=TGT_VOCAB,
        encoder_max_length=12,
        decoder_max_length=8,
        num_layers=2,
        hidden_dim=16,
        num_heads=4,
        intermediate_dim=32,
        dropout=0.0,
    )
    config.update(kwargs)
    model = Transformer(**config)
    model.build()
    return model


def _ids(batch, length, vocab, seed=0, low=5):
    rng = np.random.default_rng(seed)
    return rng.integers(low, vocab, (batch, length)).astype("int32")


def _greedy_reference(model, source, steps):
    """Greedy decoding by re-running the full model on the whole prefix."""
    dec = np.full((source.shape[0], 1), model.start_token_id, "int32")
    for _ in range(steps):
        logits = np.asarray(
            model({"encoder_inputs": source, "decoder_inputs": dec})
        )
        token = logits[:, -1].argmax(-1).astype("int32")
        dec = np.concatenate([dec, token[:, None]], axis=1)
    out = dec[:, 1:]
    for row in out:  # pad everything after the first [EOS]
        ends = np.flatnonzero(row == model.end_token_id)
        if ends.size:
            row[ends[0] + 1 :] = model.pad_token_id
    return out


def test_padding_and_causality():
    model = _model()
    src = _ids(2, 12, SRC_VOCAB)
    src[:, 9:] = 0  # padding
    dec = _ids(2, 8, TGT_VOCAB, seed=1)
    logits = np.asarray(model({"encoder_inputs": src, "decoder_inputs": dec}))
    assert logits.shape == (2, 8, TGT_VOCAB)
    # The encoder padding mask: removing the pads gives the same logits.
    trimmed = np.asarray(
        model({"encoder_inputs": src[:, :9], "decoder_inputs": dec})
    )
    np.testing.assert_allclose(trimmed, logits, atol=1e-5)
    # Future decoder tokens never change earlier logits.
    dec2 = dec.copy()
    dec2[:, 5] = (dec2[:, 5] + 1) % TGT_VOCAB
    logits2 = np.asarray(model({"encoder_inputs": src, "decoder_inputs": dec2}))
    np.testing.assert_allclose(logits2[:, :5], logits[:, :5], atol=1e-6)
    assert np.abs(logits2[:, 5] - logits[:, 5]).max() > 1e-4


@pytest.mark.large
def test_decoder_kv_cache_equals_recompute_token_by_token():
    model = _model()
    src = _ids(3, 12, SRC_VOCAB, seed=2)
    dec = _ids(3, 8, TGT_VOCAB, seed=3)
    full = np.asarray(model({"encoder_inputs": src, "decoder_inputs": dec}))

    def cached(src, dec):
        encoded, mask = model.encode(src)
        self_cache, cross_cache = model.init_cache(3, 8, 12)
        logits, self_cache, cross_cache = model.call_with_cache(
            dec[:, :1], encoded, mask, self_cache, cross_cache, 0
        )
        steps = [logits]
        for t in range(1, 8):
            logits, self_cache, _ = model.call_with_cache(
                dec[:, t : t + 1],
                encoded,
                mask,
                self_cache,
                cross_cache,
                tf.constant(t),
            )
            steps.append(logits)
        return tf.concat(steps, axis=1)

    np.testing.assert_allclose(cached(src, dec), full, atol=1e-5, rtol=1e-5)
    jitted = tf.function(cached, jit_compile=True)(src, dec)
    np.testing.assert_allclose(jitted, full, atol=1e-5, rtol=1e-5)


@pytest.mark.large
def test_greedy_decode_cached_equals_recompute():
    model = _model()
    src = _ids(3, 12, SRC_VOCAB, seed=4)
    src[0, 8:] = 0  # one padded source
    expected = _greedy_reference(model, src, 8)
    for use_cache, jit_compile in ((True, False), (False, False), (True, True)):
        out = model.greedy_decode(
            src, use_cache=use_cache, jit_compile=jit_compile
        )
        np.testing.assert_array_equal(out, expected)


def test_pad_after_end():
    model = _model()
    ids = np.array([[5, 3, 6, 3], [3, 7, 8, 9], [5, 6, 7, 8]], "int32")
    out = np.asarray(model._pad_after_end(ids))
    np.testing.assert_array_equal(
        out, [[5, 3, 0, 0], [3, 0, 0, 0], [5, 6, 7, 8]]
    )


def test_invalid_args_raise():
    with pytest.raises(ValueError, match="hidden_dim=10 and num_heads=4"):
        _model(hidden_dim=10)
    with pytest.raises(ValueError, match="decoder_max_length"):
        _model(decoder_max_length=0)
    with pytest.raises(ValueError, match="end_token_id"):
        _model(end_token_id=TGT_VOCAB)
    model = _model()
    with pytest.raises(TypeError, match="dict"):
        model(np.zeros((1, 3), "int32"))
    with pytest.raises(ValueError, match="max_length=9"):
        model.greedy_decode(np.ones((1, 4), "int32"), max_length=9)


@pytest.mark.large
def test_learns_date_translation_and_round_trips(tmp_path):
    src_tok, tgt_tok = date_tokenizers()
    sources, targets = make_date_translation(1200, seed=0)
    enc, dec_in, dec_out = encode_pairs(
        sources, targets, src_tok, tgt_tok, source_length=18
    )
    model = Transformer(
        src_tok.vocabulary_size,
        tgt_tok.vocabulary_size,
        encoder_max_length=18,
        decoder_max_length=dec_in.shape[1],
        num_layers=1,
        hidden_dim=32,
        num_heads=4,
        intermediate_dim=64,
        dropout=0.0,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=0
        ),
    )
    x = {"encoder_inputs": enc, "decoder_inputs": dec_in}
    history = model.fit(x, dec_out, epochs=6, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 0.4 * history.history["loss"][0]
    val_src, val_tgt = make_date_translation(100, seed=1)
    predictions = model.translate(val_src, src_tok, tgt_tok)
    assert exact_match(predictions, val_tgt) > 0.2

    path = tmp_path / "transformer.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert restored.get_config() == model.get_config()
    np.testing.assert_array_equal(
        restored.greedy_decode(enc[:8]), model.greedy_decode(enc[:8])
    )

    export = export_savedmodel(model, "transformer", base_dir=tmp_path)
    cases = [{"encoder_inputs": enc[:1]}, {"encoder_inputs": enc[:5, :15]}]
    expected = [
        {"token_ids": model.greedy_decode(c["encoder_inputs"])} for c in cases
    ]
    check_parity(export, cases, expected)
    cases = [
        {"encoder_inputs": enc[:2], "decoder_inputs": dec_in[:2]},
        {"encoder_inputs": enc[:3, :16], "decoder_inputs": dec_in[:3, :5]},
    ]
    expected = [{"logits": np.asarray(model(c))} for c in cases]
    check_parity(export, cases, expected, endpoint="teacher_forcing")
