import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from refnn.data.text import (
    COUNTRIES,
    NEGATIVE_WORDS,
    POSITIVE_WORDS,
    load_tfds_text,
    make_corpus,
    make_sentiment,
)


def test_corpus_is_deterministic_and_consistent():
    corpus = make_corpus(500, seed=1)
    assert corpus == make_corpus(500, seed=1)
    assert corpus != make_corpus(500, seed=2)
    for sentence in corpus:
        words = set(sentence.split())
        assert sentence == sentence.lower()
        for country, capital, language in COUNTRIES:
            # Relations are consistent: a capital or country only ever
            # appears with its own language, never with the other one.
            if capital in words or country in words:
                assert language in words, sentence
                assert not (capital in words and country in words), sentence
        if "he" in words:
            assert "his" in words and "she" not in words


def test_sentiment_labels_follow_the_words():
    texts, labels = make_sentiment(300, seed=0, noise=0.0)
    assert len(texts) == 300 and labels.dtype == np.int32
    assert 0.35 < labels.mean() < 0.65
    for text, y in zip(texts, labels):
        words = text.split()
        pos = sum(w in POSITIVE_WORDS for w in words)
        neg = sum(w in NEGATIVE_WORDS for w in words)
        assert (pos, neg) == ((2, 0) if y else (0, 2))
    with pytest.raises(ValueError, match="noise"):
        make_sentiment(3, noise=2.0)


def test_load_tfds_text_with_mock_data():
    with tfds.testing.mock_data(num_examples=6):
        ds = load_tfds_text("imdb_reviews", split="train", batch_size=4)
        text, label = next(iter(ds))
    assert text.dtype == tf.string and text.shape == (4,)
    assert label.dtype == tf.int64 and label.shape == (4,)
    assert set(label.numpy().tolist()) <= {0, 1}
    with pytest.raises(ValueError, match="name"):
        load_tfds_text("")
