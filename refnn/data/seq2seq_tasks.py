"""Generated sequence-to-sequence tasks with an exact-match score.

The date-format translation task maps human-written dates to ISO dates:

    "12 March 2021"  -> "2021-03-12"
    "March 12, 2021" -> "2021-03-12"
    "12/03/2021"     -> "2021-03-12"
    "mar 12 2021"    -> "2021-03-12"

It is deterministic for a given seed, needs no download, and its score
(`exact_match`) is easy to read: the fraction of outputs that are exactly
right. Both the RNN `Seq2Seq` model and the Transformer use it.

References:
    seed 002, "How RNNs Work", "Many-to-Many RNN" (language translation,
    sequence-to-sequence tasks).
"""

import datetime

import numpy as np

from refnn.text.char_tokenizer import CharTokenizer
from refnn.text.special_tokens import SPECIAL_TOKENS

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DATE_FORMATS = ("dmy_long", "mdy_long", "dmy_slash", "mdy_short")
# Every character any source / target date can contain.
DATE_SOURCE_CHARS = "".join(
    sorted(set("".join(MONTHS) + "".join(MONTHS).lower() + "0123456789 ,/"))
)
DATE_TARGET_CHARS = "0123456789-"
# Longest strings, without [SOS]/[EOS] ("September 30, 2049" is 18).
DATE_SOURCE_LENGTH = 18
DATE_TARGET_LENGTH = 10


def format_date(date, style):
    """Writes a `datetime.date` in one of `DATE_FORMATS`."""
    month = MONTHS[date.month - 1]
    if style == "dmy_long":
        return f"{date.day} {month} {date.year}"
    if style == "mdy_long":
        return f"{month} {date.day}, {date.year}"
    if style == "dmy_slash":
        return f"{date.day:02d}/{date.month:02d}/{date.year}"
    if style == "mdy_short":
        return f"{month[:3].lower()} {date.day} {date.year}"
    raise ValueError(f"style must be one of {DATE_FORMATS}, got {style!r}.")


def make_date_translation(n, seed=0, formats=DATE_FORMATS):
    """Generates `n` (source, target) date pairs.

    Args:
        n: number of pairs, a positive integer.
        seed: integer seed; the same seed gives the same pairs.
        formats: source styles to draw from (subset of `DATE_FORMATS`).

    Returns:
        `(sources, targets)`: two lists of `n` strings; targets are ISO
        dates `"YYYY-MM-DD"` between 1950-01-01 and 2049-12-31.

    Example:

    >>> src, tgt = make_date_translation(2, seed=0)
    >>> len(src), tgt[0][4], tgt[0][7]
    (2, '-', '-')
    """
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n}.")
    formats = tuple(formats)
    for style in formats:
        if style not in DATE_FORMATS:
            raise ValueError(
                f"formats must be drawn from {DATE_FORMATS}, got {style!r}."
            )
    rng = np.random.default_rng(seed)
    start = datetime.date(1950, 1, 1).toordinal()
    stop = datetime.date(2049, 12, 31).toordinal()
    days = rng.integers(start, stop + 1, size=n)
    styles = rng.integers(0, len(formats), size=n)
    sources, targets = [], []
    for d, s in zip(days, styles):
        date = datetime.date.fromordinal(int(d))
        sources.append(format_date(date, formats[int(s)]))
        targets.append(date.isoformat())
    return sources, targets


def make_addition(n, seed=0, max_digits=3):
    """Generates `n` addition problems `"123+45" -> "168"`.

    Args:
        n: number of pairs.
        seed: integer seed.
        max_digits: operands have 1 to `max_digits` digits.

    Returns:
        `(sources, targets)`: lists of strings. Character set: `"0123456789+"`.
    """
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n}.")
    if not isinstance(max_digits, int) or max_digits <= 0:
        raise ValueError(
            f"max_digits must be a positive integer, got {max_digits}."
        )
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 10**max_digits, size=n)
    b = rng.integers(0, 10**max_digits, size=n)
    return [f"{x}+{y}" for x, y in zip(a, b)], [
        str(x + y) for x, y in zip(a, b)
    ]


def date_tokenizers():
    """Returns `(source_tokenizer, target_tokenizer)` for the date task.

    Both are `refnn.text.CharTokenizer`s with the shared special tokens
    (`[PAD]`=0, `[UNK]`=1, `[SOS]`=2, `[EOS]`=3, `[MASK]`=4) followed by
    `DATE_SOURCE_CHARS` / `DATE_TARGET_CHARS`. Their vocabularies are
    fixed, so any seed's data encodes the same way.
    """
    return CharTokenizer(DATE_SOURCE_CHARS), CharTokenizer(DATE_TARGET_CHARS)


def encode_pairs(
    sources,
    targets,
    source_tokenizer,
    target_tokenizer,
    source_length=None,
    target_length=None,
):
    """Encodes pairs for teacher forcing.

    Args:
        sources, targets: lists of strings.
        source_tokenizer, target_tokenizer: `CharTokenizer`s (see
            `date_tokenizers()`).
        source_length: encoder length (default: the longest source).
        target_length: decoder length *including* `[SOS]`/`[EOS]`
            (default: longest target + 1).

    Returns:
        `(encoder_inputs, decoder_inputs, decoder_targets)`, `int32` arrays:
        `encoder_inputs` `(batch_size, source_length)` padded with 0;
        `decoder_inputs` = `[SOS] y_1 ... y_n` and `decoder_targets` =
        `y_1 ... y_n [EOS]`, both `(batch_size, target_length)` padded with 0.
    """
    if len(sources) != len(targets):
        raise ValueError(
            "sources and targets must have the same length, got "
            f"{len(sources)} and {len(targets)}."
        )
    if target_length is None:
        target_length = max(len(t) for t in targets) + 1
    enc = source_tokenizer.tokenize(
        list(sources), sequence_length=source_length
    )
    dec_in = target_tokenizer.tokenize(
        list(targets), sequence_length=target_length, add_sos=True
    )
    dec_out = target_tokenizer.tokenize(
        list(targets), sequence_length=target_length, add_eos=True
    )
    return enc, dec_in, dec_out


def exact_match(predictions, targets):
    """Fraction of predictions equal to their target string.

    Args:
        predictions: list of predicted strings.
        targets: list of reference strings, same length.

    Returns:
        A float in [0, 1].

    Example:

    >>> exact_match(["2021-03-12", "2020-01-01"], ["2021-03-12", "2020-01-02"])
    0.5
    """
    predictions, targets = list(predictions), list(targets)
    if len(predictions) != len(targets):
        raise ValueError(
            "predictions and targets must have the same length, got "
            f"{len(predictions)} and {len(targets)}."
        )
    if not targets:
        raise ValueError("targets must not be empty.")
    hits = sum(str(p) == str(t) for p, t in zip(predictions, targets))
    return hits / len(targets)


__all__ = [
    "DATE_FORMATS",
    "DATE_SOURCE_CHARS",
    "DATE_TARGET_CHARS",
    "SPECIAL_TOKENS",
    "date_tokenizers",
    "encode_pairs",
    "exact_match",
    "format_date",
    "make_addition",
    "make_date_translation",
]
