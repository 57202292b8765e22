import numpy as np
import pytest

from refnn.text import SPECIAL_TOKENS, CharTokenizer


def test_ids_and_round_trip():
    tok = CharTokenizer("abc ")
    assert tok.vocabulary == list(SPECIAL_TOKENS.tokens) + ["a", "b", "c", " "]
    assert tok.tokenize("cab") == [7, 5, 6]
    assert tok.detokenize(tok.tokenize("a bc")) == "a bc"
    # Unknown characters -> [UNK] and back as the token text.
    assert tok.tokenize("az") == [5, SPECIAL_TOKENS.unk_id]
    assert tok.detokenize(tok.tokenize("az")) == "a[UNK]"


def test_batch_padding_sos_eos():
    tok = CharTokenizer("abc")
    out = tok.tokenize(["ab", "c"], add_sos=True, add_eos=True)
    np.testing.assert_array_equal(out, [[2, 5, 6, 3], [2, 7, 3, 0]])
    assert tok.detokenize(out) == ["ab", "c"]


def test_from_corpus_orders_by_frequency():
    tok = CharTokenizer.from_corpus(["aab", "ba a"])
    assert tok.vocabulary[5:] == ["a", "b", " "]
    lower = CharTokenizer.from_corpus(["AbA"], lowercase=True)
    assert lower.vocabulary[5:] == ["a", "b"]
    assert lower.tokenize("AB") == [5, 6]
    assert CharTokenizer.from_config(tok.get_config()).vocabulary == (
        tok.vocabulary
    )


def test_bad_input_raises():
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer(["ab"])
    tok = CharTokenizer("ab")
    with pytest.raises(TypeError, match="text must be a string"):
        tok.tokenize(None)
    with pytest.raises(ValueError, match="ids must be 1-D or 2-D"):
        tok.detokenize(np.zeros((1, 1, 1), "int32"))
