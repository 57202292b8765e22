import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn.text import SPECIAL_TOKENS, WordTokenizer

CORPUS = ["The cat sat on the mat.", "The dog sat on the log!", "A cat, a dog."]


def test_seed_example_and_special_ids():
    # Seed: "The cat sat on the mat" -> ["The", "cat", "sat", "on", "the",
    # "mat"] (here lowercased, as the bag-of-words steps ask).
    tok = WordTokenizer.from_corpus(CORPUS)
    assert tok.split("The cat sat on the mat") == [
        "the",
        "cat",
        "sat",
        "on",
        "the",
        "mat",
    ]
    assert tok.vocabulary[:5] == list(SPECIAL_TOKENS.tokens)
    assert [tok.token_to_id(t) for t in SPECIAL_TOKENS.tokens] == [
        0,
        1,
        2,
        3,
        4,
    ]
    # Most frequent word first: "the" (4 times).
    assert tok.vocabulary[5] == "the"


def test_round_trip_and_unknown():
    tok = WordTokenizer.from_corpus(CORPUS)
    ids = tok.tokenize("the dog sat on the zebra")
    assert ids[-1] == SPECIAL_TOKENS.unk_id
    assert tok.detokenize(ids) == "the dog sat on the [UNK]"
    text = "a cat sat on the log"
    assert tok.detokenize(tok.tokenize(text)) == text
    # sos/eos and padding: decoding drops [SOS]/[PAD] and stops at [EOS].
    batch = tok.tokenize(
        ["a cat", "the dog sat"], sequence_length=6, add_sos=True, add_eos=True
    )
    assert batch.shape == (2, 6) and batch.dtype == np.int32
    assert batch[0].tolist()[:4] == [
        2,
        tok.token_to_id("a"),
        tok.token_to_id("cat"),
        3,
    ]
    assert batch[0, 4:].tolist() == [0, 0]
    assert tok.detokenize(batch) == ["a cat", "the dog sat"]


def test_stop_words_and_max_tokens():
    tok = WordTokenizer.from_corpus(
        CORPUS, stop_words=("a", "the"), max_tokens=3
    )
    assert "the" not in tok.vocabulary and "a" not in tok.vocabulary
    assert tok.vocabulary_size == 5 + 3


def test_same_ids_as_text_vectorization():
    tok = WordTokenizer.from_corpus(CORPUS)
    tv = keras.layers.TextVectorization(
        vocabulary=tok.vocabulary[5:], output_mode="int"
    )
    texts = ["The CAT sat, on the mat!!", "zebra's don't sat"]
    ours = tok.tokenize(texts)
    theirs = np.asarray(tv(texts))
    # TextVectorization: 0 = padding, 1 = OOV, then the vocabulary; ours
    # puts 3 more special tokens before the vocabulary.
    theirs = np.where(theirs >= 2, theirs + 3, theirs)
    np.testing.assert_array_equal(ours, theirs[:, : ours.shape[1]])


def test_tf_tokenize_matches_python():
    tok = WordTokenizer.from_corpus(CORPUS)
    texts = ["The CAT sat, on the mat!!", "", "dog?  log unknown"]
    np.testing.assert_array_equal(
        tok.tf_tokenize(tf.constant(texts)).numpy(), tok.tokenize(texts)
    )
    np.testing.assert_array_equal(
        tok.tf_tokenize(tf.constant(texts), sequence_length=2).numpy(),
        tok.tokenize(texts, sequence_length=2),
    )


def test_config_round_trip():
    tok = WordTokenizer.from_corpus(CORPUS)
    again = WordTokenizer.from_config(tok.get_config())
    assert again.vocabulary == tok.vocabulary


def test_bad_input_raises():
    tok = WordTokenizer.from_corpus(CORPUS)
    with pytest.raises(TypeError, match="text must be a string"):
        tok.tokenize(123)
    with pytest.raises(TypeError, match="item 5"):
        tok.tokenize(["ok", 5])
    with pytest.raises(ValueError, match="sequence_length"):
        tok.tokenize("a", sequence_length=0)
    with pytest.raises(TypeError, match="ids must be integers"):
        tok.detokenize([0.5, 1.0])
    with pytest.raises(ValueError, match="token_id must be in"):
        tok.detokenize([999])
    with pytest.raises(TypeError, match="vocabulary must be a list"):
        WordTokenizer("cat dog")
    with pytest.raises(ValueError, match="duplicate"):
        WordTokenizer(["cat", "cat"])
