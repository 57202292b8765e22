import datetime

import numpy as np
import pytest

from refnn.data.seq2seq_tasks import (
    DATE_SOURCE_LENGTH,
    date_tokenizers,
    encode_pairs,
    exact_match,
    format_date,
    make_addition,
    make_date_translation,
)


def test_formats():
    d = datetime.date(2021, 3, 12)
    assert format_date(d, "dmy_long") == "12 March 2021"
    assert format_date(d, "mdy_long") == "March 12, 2021"
    assert format_date(d, "dmy_slash") == "12/03/2021"
    assert format_date(d, "mdy_short") == "mar 12 2021"


def test_pairs_are_consistent_and_deterministic():
    src, tgt = make_date_translation(300, seed=3)
    assert (src, tgt) == make_date_translation(300, seed=3)
    assert src != make_date_translation(300, seed=4)[0]
    for s, t in zip(src, tgt):
        date = datetime.date.fromisoformat(t)
        assert date.year >= 1950 and date.year <= 2049
        assert str(date.year) in s and str(date.day) in s
        assert len(s) <= DATE_SOURCE_LENGTH


def test_encode_pairs_teacher_forcing_shift():
    src, tgt = make_date_translation(5, seed=0)
    s_tok, t_tok = date_tokenizers()
    enc, dec_in, dec_out = encode_pairs(src, tgt, s_tok, t_tok)
    assert dec_in.shape == dec_out.shape == (5, 11)
    assert (dec_in[:, 0] == 2).all() and (dec_out[:, -1] == 3).all()
    np.testing.assert_array_equal(dec_in[:, 1:], dec_out[:, :-1])
    assert s_tok.detokenize(enc) == src
    assert t_tok.detokenize(dec_out) == tgt
    assert 1 not in enc  # every character is in the vocabulary


def test_exact_match_and_addition():
    assert exact_match(["a", "b", "c", "d"], ["a", "b", "x", "d"]) == 0.75
    with pytest.raises(ValueError, match="same length"):
        exact_match(["a"], ["a", "b"])
    src, tgt = make_addition(50, seed=1)
    for s, t in zip(src, tgt):
        a, b = s.split("+")
        assert int(a) + int(b) == int(t)


def test_bad_args_raise():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        make_date_translation(0)
    with pytest.raises(ValueError, match="formats"):
        make_date_translation(3, formats=("iso",))
