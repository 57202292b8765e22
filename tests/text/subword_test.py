import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers

from refnn.data.text import make_corpus
from refnn.text import (
    SPECIAL_TOKENS,
    learn_bpe_merges,
    learn_byte_pair_merges,
    train_byte_pair,
    train_word_piece,
)

CORPUS = make_corpus(300, seed=0)


def _text(x):
    if isinstance(x, str):
        return x
    x = x.numpy() if hasattr(x, "numpy") else x
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def test_word_piece_special_tokens_round_trip_and_unk():
    tok = train_word_piece(CORPUS, 120)
    vocab = tok.get_vocabulary()
    assert vocab[:5] == list(SPECIAL_TOKENS.tokens)
    text = "the king said he lives in the palace"
    assert _text(tok.detokenize(tok.tokenize(text))) == text
    # Unseen words are split into known pieces; characters never seen
    # become [UNK]; special tokens in the text keep their fixed ids.
    ids = np.asarray(tok.tokenize("[SOS] the queen € [EOS]")).tolist()
    assert ids[0] == SPECIAL_TOKENS.sos_id and ids[-1] == SPECIAL_TOKENS.eos_id
    assert SPECIAL_TOKENS.unk_id in ids
    assert len(np.asarray(tok.tokenize("tokyoland"))) > 1  # subword pieces


def test_byte_pair_round_trip_and_agrees_with_hf():
    vocab, merges = learn_byte_pair_merges(CORPUS, 320)
    assert [vocab[t] for t in SPECIAL_TOKENS.tokens] == [0, 1, 2, 3, 4]
    tok = train_byte_pair(CORPUS, 320)
    for text in ["the king said he lives", "zebras in Zürich!", "a  b"]:
        assert _text(tok.detokenize(tok.tokenize(text))) == text
    # keras_hub's tokenizer with the HF-learned merges == HF itself.
    hf = Tokenizer(
        models.BPE(vocab=vocab, merges=[tuple(m.split()) for m in merges])
    )
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    text = "the capital city tokyo speaks japanese"
    np.testing.assert_array_equal(
        np.asarray(tok.tokenize(text)), hf.encode(text).ids
    )
    # The special tokens are never split.
    assert np.asarray(tok.tokenize("[MASK]")).tolist() == [
        SPECIAL_TOKENS.mask_id
    ]


def test_teaching_loop_equals_library_merges():
    _, merges = learn_byte_pair_merges(CORPUS, 261 + 120)
    ours = [" ".join(p) for p in learn_bpe_merges(CORPUS, 120)]
    assert ours == merges
    assert learn_bpe_merges(["low lower lowest"], 2) == [
        ("l", "o"),
        ("lo", "w"),
    ]


def test_bad_input_raises():
    with pytest.raises(ValueError, match="vocabulary_size"):
        train_word_piece(CORPUS, 3)
    with pytest.raises(TypeError, match="corpus must be a string"):
        learn_byte_pair_merges(42, 300)
    with pytest.raises(ValueError, match="num_merges"):
        learn_bpe_merges(CORPUS, -1)
