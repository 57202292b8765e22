"""Word tokenizer with a core-TensorFlow twin for serving."""

import re
from collections import Counter

from refnn.text.base_tokenizer import BaseTokenizer, _check_text
from refnn.text.special_tokens import SPECIAL_TOKENS

# The punctuation Keras's TextVectorization strips (same regex, RE2-safe).
PUNCTUATION_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


class WordTokenizer(BaseTokenizer):
    """Lowercases, strips punctuation, splits on whitespace, looks words up.

    The standardization is Keras's `"lower_and_strip_punctuation"`, so the
    ids agree with `keras.layers.TextVectorization` given the same
    vocabulary. `tf_tokenize` does the same with core TensorFlow ops only
    (`tf.strings`, `tf.lookup.StaticHashTable`), which is what a string-in
    SavedModel signature needs to run in stock TF Serving.

    Ids: `[PAD]`=0, `[UNK]`=1, `[SOS]`=2, `[EOS]`=3, `[MASK]`=4, then the
    vocabulary words.

    Args:
        vocabulary: list of words (special tokens are added in front).
        lowercase: lowercase the text.
        strip_punctuation: remove the characters in `PUNCTUATION_REGEX`.

    Example:

    >>> tok = WordTokenizer.from_corpus(["The cat sat on the mat"])
    >>> tok.tokenize("The cat sat on the dog!")
    [5, 6, 9, 8, 5, 1]
    >>> tok.detokenize(tok.tokenize("The cat sat on the dog!"))
    'the cat sat on the [UNK]'

    References:
        seed 002, "Understanding Tokenization in NLP", "Word Tokenization";
        "The Bag of Words Model", "Steps Involved" (tokenization step).
    """

    def __init__(self, vocabulary, lowercase=True, strip_punctuation=True):
        super().__init__(vocabulary)
        self.lowercase = bool(lowercase)
        self.strip_punctuation = bool(strip_punctuation)
        self._regex = re.compile(PUNCTUATION_REGEX)

    @classmethod
    def from_corpus(
        cls,
        corpus,
        max_tokens=None,
        min_count=1,
        stop_words=(),
        lowercase=True,
        strip_punctuation=True,
    ):
        """Builds a vocabulary from `corpus`, most frequent words first.

        Args:
            corpus: list of strings.
            max_tokens: keep at most this many words (specials not counted).
            min_count: drop words seen fewer times.
            stop_words: words left out of the vocabulary (they become
                `[UNK]`), e.g. `("a", "the")` as in the seed's bag-of-words
                steps.
        """
        texts, _ = _check_text(corpus, name="corpus")
        if max_tokens is not None and (
            not isinstance(max_tokens, int) or max_tokens <= 0
        ):
            raise ValueError(
                f"max_tokens must be a positive integer, got {max_tokens}."
            )
        tok = cls([], lowercase=lowercase, strip_punctuation=strip_punctuation)
        counts = Counter()
        for t in texts:
            counts.update(tok.split(t))
        stop = set(stop_words)
        words = [
            w
            for w in sorted(counts, key=lambda w: (-counts[w], w))
            if counts[w] >= min_count
            and w not in stop
            and w not in SPECIAL_TOKENS.tokens
        ]
        if max_tokens is not None:
            words = words[:max_tokens]
        return cls(
            words, lowercase=lowercase, strip_punctuation=strip_punctuation
        )

    def standardize(self, text):
        if self.lowercase:
            text = text.lower()
        if self.strip_punctuation:
            text = self._regex.sub("", text)
        return text

    def split(self, text):
        return self.standardize(text).split()

    def join(self, tokens):
        return " ".join(tokens)

    def tf_tokenize(self, text, sequence_length=None, table=None):
        """Core-TensorFlow version of `tokenize` for SavedModel signatures.

        Args:
            text: a `tf.string` tensor of shape `(batch_size,)`.
            sequence_length: pad with 0 / truncate to this length; `None`
                pads to the longest text of the batch.
            table: the `tf.lookup.StaticHashTable` to use (default: one
                built once and cached on the tokenizer).

        Returns:
            An `int32` tensor `(batch_size, sequence_length)`.
        """
        import tensorflow as tf

        x = text
        if self.lowercase:
            x = tf.strings.lower(x, encoding="utf-8")
        if self.strip_punctuation:
            x = tf.strings.regex_replace(x, PUNCTUATION_REGEX, "")
        words = tf.strings.split(x)  # ragged (B, None)
        table = table if table is not None else self.lookup_table()
        ids = tf.ragged.map_flat_values(table.lookup, words)
        if sequence_length is None:
            return ids.to_tensor(default_value=SPECIAL_TOKENS.pad_id)
        return ids[:, :sequence_length].to_tensor(
            default_value=SPECIAL_TOKENS.pad_id,
            shape=[None, sequence_length],
        )

    def lookup_table(self):
        """The `tf.lookup.StaticHashTable` word -> id used by `tf_tokenize`."""
        import tensorflow as tf

        if getattr(self, "_table", None) is None:
            init = tf.lookup.KeyValueTensorInitializer(
                keys=tf.constant(self._tokens),
                values=tf.range(len(self._tokens), dtype=tf.int32),
            )
            self._table = tf.lookup.StaticHashTable(
                init, default_value=SPECIAL_TOKENS.unk_id
            )
        return self._table

    def get_config(self):
        return {
            "vocabulary": self.vocabulary[len(SPECIAL_TOKENS.tokens) :],
            "lowercase": self.lowercase,
            "strip_punctuation": self.strip_punctuation,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
