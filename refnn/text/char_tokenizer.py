"""Character tokenizer."""

from collections import Counter

from refnn.text.base_tokenizer import BaseTokenizer, _check_text
from refnn.text.special_tokens import SPECIAL_TOKENS


class CharTokenizer(BaseTokenizer):
    """Splits text into single characters (spaces and punctuation included).

    Ids: the shared special tokens first (`[PAD]`=0, `[UNK]`=1, `[SOS]`=2,
    `[EOS]`=3, `[MASK]`=4), then the characters in the given order.
    Characters outside the vocabulary map to `[UNK]`.

    Args:
        vocabulary: an iterable of single characters (a string works).
        lowercase: lowercase text before splitting.

    Example:

    >>> tok = CharTokenizer("abc ")
    >>> tok.tokenize("cab")
    [7, 5, 6]
    >>> tok.detokenize(tok.tokenize("cab!"))
    'cab[UNK]'

    References:
        seed 002, "Understanding Tokenization in NLP", "Character
        Tokenization" and "Special Token Handling".
    """

    def __init__(self, vocabulary, lowercase=False):
        if isinstance(vocabulary, str):
            vocabulary = list(vocabulary)
        vocabulary = list(vocabulary)
        for ch in vocabulary:
            if not isinstance(ch, str) or len(ch) != 1:
                raise ValueError(
                    f"vocabulary must hold single characters, got {ch!r}."
                )
        super().__init__(list(dict.fromkeys(vocabulary)))
        self.lowercase = bool(lowercase)

    @classmethod
    def from_corpus(cls, corpus, lowercase=False):
        """Builds the vocabulary from every character in `corpus`.

        Characters are ordered by frequency (ties by code point).
        """
        texts, _ = _check_text(corpus, name="corpus")
        counts = Counter()
        for t in texts:
            counts.update(t.lower() if lowercase else t)
        chars = sorted(counts, key=lambda c: (-counts[c], c))
        return cls(chars, lowercase=lowercase)

    def split(self, text):
        return list(text.lower() if self.lowercase else text)

    def join(self, tokens):
        return "".join(tokens)

    def get_config(self):
        return {
            "vocabulary": self.vocabulary[len(SPECIAL_TOKENS.tokens) :],
            "lowercase": self.lowercase,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
