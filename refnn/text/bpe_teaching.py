"""Byte Pair Encoding from scratch: the merge loop, for reading.

BPE starts from single symbols and repeatedly merges the most frequent
adjacent pair into a new symbol:

    1. split every word into symbols (here: byte-level characters),
    2. count every adjacent pair, weighted by how often the word occurs,
    3. merge the most frequent pair everywhere, record the merge,
    4. repeat until the wanted number of merges is reached.

Ties are broken the way Hugging Face `tokenizers` breaks them (the pair
whose symbols were created first wins; base symbols are ordered by code
point), so on ASCII text `learn_bpe_merges` returns exactly the merges
`refnn.text.learn_byte_pair_merges` gets from the library (tested). The
word split is an ASCII version of GPT-2's pre-tokenizer regex (Python's
`re` has no `\\p{L}`), so non-ASCII letters may split differently.

References:
    seed 002, "Understanding Tokenization in NLP", "Subword Tokenization"
    ("BPE (Byte Pair Encoding): Iteratively merges most frequent character
    pairs").
"""

import re
from collections import Counter

# GPT-2's split regex with \p{L} -> [A-Za-z] and \p{N} -> [0-9].
_WORD_REGEX = re.compile(
    r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+"
    r"|\s+(?!\S)|\s+"
)


def bytes_to_unicode():
    """GPT-2's map from the 256 byte values to printable characters."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = list(printable)
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


def pre_tokenize(text):
    """Splits text into words; a leading space becomes "Ġ" (byte 32)."""
    table = bytes_to_unicode()
    return [
        "".join(table[b] for b in w.encode("utf-8"))
        for w in _WORD_REGEX.findall(text)
    ]


def learn_bpe_merges(corpus, num_merges):
    """Learns `num_merges` BPE merges from a list of strings.

    Args:
        corpus: list of strings.
        num_merges: how many merges to learn (fewer if nothing is left).

    Returns:
        A list of `(left, right)` symbol pairs, in the order learned.

    Example:

    >>> learn_bpe_merges(["low lower lowest"], 2)
    [('l', 'o'), ('lo', 'w')]
    """
    if not isinstance(num_merges, int) or num_merges < 0:
        raise ValueError(
            f"num_merges must be a non-negative integer, got {num_merges}."
        )
    # 1. words as tuples of symbols, with their counts.
    words = Counter(w for text in corpus for w in pre_tokenize(text))
    words = {tuple(w): c for w, c in words.items()}
    # Symbol rank for tie-breaking: base symbols by code point, then merges.
    rank = {s: ord(s) for w in words for s in w}
    merges = []
    for step in range(num_merges):
        # 2. count adjacent pairs.
        pairs = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[a, b] += c
        if not pairs:
            break
        # 3. most frequent pair; ties: earliest-created symbols first.
        best = min(pairs, key=lambda p: (-pairs[p], rank[p[0]], rank[p[1]]))
        merged = best[0] + best[1]
        rank.setdefault(merged, 0x110000 + step)
        merges.append(best)
        words = {_merge(w, best, merged): c for w, c in words.items()}
    return merges


def _merge(word, pair, merged):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(merged)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def bpe_encode(word, merges):
    """Applies learned merges, in order, to one pre-tokenized word."""
    symbols = tuple(word)
    for pair in merges:
        symbols = _merge(symbols, pair, pair[0] + pair[1])
    return list(symbols)
