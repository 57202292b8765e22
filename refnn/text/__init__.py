"""refnn.text."""

from refnn.text.bag_of_words import BagOfWords
from refnn.text.bpe_teaching import learn_bpe_merges
from refnn.text.char_tokenizer import CharTokenizer
from refnn.text.similarity import (
    analogy,
    analogy_accuracy,
    cosine_similarity,
    dot_similarity,
    nearest_neighbours,
)
from refnn.text.skip_gram import SkipGram, skipgram_pairs
from refnn.text.special_tokens import SPECIAL_TOKENS, SpecialTokens
from refnn.text.subword import (
    learn_byte_pair_merges,
    train_byte_pair,
    train_word_piece,
)
from refnn.text.word_tokenizer import WordTokenizer

__all__ = [
    "SPECIAL_TOKENS",
    "BagOfWords",
    "CharTokenizer",
    "SkipGram",
    "SpecialTokens",
    "WordTokenizer",
    "analogy",
    "analogy_accuracy",
    "cosine_similarity",
    "dot_similarity",
    "learn_bpe_merges",
    "learn_byte_pair_merges",
    "nearest_neighbours",
    "skipgram_pairs",
    "train_byte_pair",
    "train_word_piece",
]
