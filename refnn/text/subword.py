"""Subword tokenizers (WordPiece, BPE) trained with the libraries' trainers.

Both return keras_hub tokenizer layers whose vocabularies start with the
shared special tokens (`[PAD]`=0, `[UNK]`=1, `[SOS]`=2, `[EOS]`=3,
`[MASK]`=4), so ids mean the same thing as in `WordTokenizer` and
`CharTokenizer`.

* WordPiece: vocabulary learned by
  `keras_hub.tokenizers.compute_word_piece_vocabulary`, tokenized by
  `keras_hub.tokenizers.WordPieceTokenizer`.
* BPE: keras_hub has a BPE *tokenizer* (`BytePairTokenizer`, GPT-2 style
  byte-level) but no BPE *trainer*, so the merges are learned with Hugging
  Face `tokenizers` (`BpeTrainer` over a `ByteLevel` pre-tokenizer, the same
  byte-to-unicode mapping and split regex that keras_hub uses), then handed
  to `keras_hub.tokenizers.BytePairTokenizer`. A byte-level BPE never needs
  `[UNK]`: every byte is in the base alphabet.

References:
    seed 002, "Understanding Tokenization in NLP", "Subword Tokenization"
    (BPE: iteratively merges most frequent character pairs; WordPiece).
"""

import json

from refnn.text.base_tokenizer import _check_text
from refnn.text.special_tokens import SPECIAL_TOKENS


def train_word_piece(corpus, vocabulary_size, lowercase=True):
    """Learns a WordPiece vocabulary and returns its tokenizer.

    Args:
        corpus: list of strings.
        vocabulary_size: maximum size of the vocabulary, specials included.
        lowercase: lowercase text (at training and tokenization).

    Returns:
        A `keras_hub.tokenizers.WordPieceTokenizer`; `[UNK]` is its
        out-of-vocabulary token and the special tokens are kept whole when
        written in the input text.

    Example:

    >>> tok = train_word_piece(["the cat sat", "the cats sat"], 40)
    >>> tok.detokenize(tok.tokenize("the cats"))
    'the cats'
    """
    import keras_hub
    import tensorflow as tf

    texts, _ = _check_text(corpus, name="corpus")
    _check_size(vocabulary_size)
    vocab = keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(texts),
        vocabulary_size,
        lowercase=lowercase,
        reserved_tokens=list(SPECIAL_TOKENS.tokens),
    )
    return keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocab,
        lowercase=lowercase,
        oov_token=SPECIAL_TOKENS.unk,
        special_tokens=list(SPECIAL_TOKENS.tokens),
        special_tokens_in_strings=True,
    )


def learn_byte_pair_merges(corpus, vocabulary_size):
    """Learns byte-level BPE merges with Hugging Face `tokenizers`.

    Args:
        corpus: list of strings.
        vocabulary_size: target vocabulary size: 5 special tokens + 256
            byte symbols + the merges.

    Returns:
        `(vocabulary, merges)`: a dict token -> id (special tokens first)
        and a list of merges `"a b"` in the order they were learned.

    Example:

    >>> vocabulary, merges = learn_byte_pair_merges(["aaaa", "ab ab"], 263)
    >>> len(vocabulary)  # 5 special tokens + 256 bytes + 2 merges
    263
    >>> merges  # the pair "a a" occurs 3 times in "aaaa", "a b" twice
    ['a a', 'a b']
    >>> sorted(vocabulary, key=vocabulary.get)[:5]  # ids 0-4
    ['[PAD]', '[UNK]', '[SOS]', '[EOS]', '[MASK]']
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    texts, _ = _check_text(corpus, name="corpus")
    _check_size(vocabulary_size)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocabulary_size,
        special_tokens=list(SPECIAL_TOKENS.tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    return dict(model["vocab"]), merges


def train_byte_pair(corpus, vocabulary_size):
    """Learns BPE merges (HF `tokenizers`) and returns a keras_hub tokenizer.

    Args:
        corpus: list of strings.
        vocabulary_size: target vocabulary size (specials + 256 bytes +
            merges).

    Returns:
        A `keras_hub.tokenizers.BytePairTokenizer` with the learned
        vocabulary and merges; the special tokens are unsplittable.

    Example:

    >>> tok = train_byte_pair(["the cat sat", "the cats sat"], 270)
    >>> tok.detokenize(tok.tokenize("the cats"))
    'the cats'
    """
    import keras_hub

    vocabulary, merges = learn_byte_pair_merges(corpus, vocabulary_size)
    return keras_hub.tokenizers.BytePairTokenizer(
        vocabulary=vocabulary,
        merges=merges,
        unsplittable_tokens=list(SPECIAL_TOKENS.tokens),
    )


def _check_size(vocabulary_size):
    if not isinstance(vocabulary_size, int) or vocabulary_size <= len(
        SPECIAL_TOKENS.tokens
    ):
        raise ValueError(
            "vocabulary_size must be an integer larger than the "
            f"{len(SPECIAL_TOKENS.tokens)} special tokens, got "
            f"{vocabulary_size}."
        )
