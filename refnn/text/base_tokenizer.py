"""Vocabulary bookkeeping shared by `WordTokenizer` and `CharTokenizer`."""

import numpy as np

from refnn.text.special_tokens import SPECIAL_TOKENS


def _check_text(text, name="text"):
    """Returns `(list_of_strings, was_single)` or raises `TypeError`."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if isinstance(text, str):
        return [text], True
    if isinstance(text, np.ndarray) and text.dtype.kind in "USO":
        text = text.tolist()
    if isinstance(text, (list, tuple)):
        out = []
        for item in text:
            if isinstance(item, bytes):
                item = item.decode("utf-8")
            if not isinstance(item, str):
                raise TypeError(
                    f"{name} must be a string or a list of strings, got an "
                    f"item {item!r} of type {type(item).__name__}."
                )
            out.append(item)
        return out, False
    raise TypeError(
        f"{name} must be a string or a list of strings, got {text!r} of "
        f"type {type(text).__name__}."
    )


class BaseTokenizer:
    """Maps tokens to ids with the shared special tokens first.

    Subclasses define `split(text) -> list[str]` and `join(tokens) -> str`.
    """

    def __init__(self, vocabulary):
        if isinstance(vocabulary, str) or not hasattr(vocabulary, "__iter__"):
            raise TypeError(
                "vocabulary must be a list of tokens, got "
                f"{vocabulary!r} of type {type(vocabulary).__name__}."
            )
        vocabulary = list(vocabulary)
        for token in vocabulary:
            if not isinstance(token, str) or not token:
                raise ValueError(
                    f"vocabulary must hold non-empty strings, got {token!r}."
                )
        words = [t for t in vocabulary if t not in SPECIAL_TOKENS.tokens]
        if len(set(words)) != len(words):
            raise ValueError("vocabulary must not hold duplicate tokens.")
        self.special_tokens = SPECIAL_TOKENS
        self._tokens = list(SPECIAL_TOKENS.tokens) + words
        self._ids = {t: i for i, t in enumerate(self._tokens)}

    # Vocabulary -------------------------------------------------------
    @property
    def vocabulary(self):
        """All tokens in id order, special tokens first."""
        return list(self._tokens)

    @property
    def vocabulary_size(self):
        return len(self._tokens)

    def token_to_id(self, token):
        return self._ids.get(token, SPECIAL_TOKENS.unk_id)

    def id_to_token(self, token_id):
        token_id = int(token_id)
        if not 0 <= token_id < len(self._tokens):
            raise ValueError(
                f"token_id must be in [0, {len(self._tokens)}), got {token_id}."
            )
        return self._tokens[token_id]

    # Encoding ---------------------------------------------------------
    def tokenize(
        self, text, sequence_length=None, add_sos=False, add_eos=False
    ):
        """Turns text into token ids.

        Args:
            text: a string or a list of strings.
            sequence_length: if given, pad with `[PAD]` (id 0) or truncate
                every row to this length and return an `int32` array.
            add_sos: prepend `[SOS]`.
            add_eos: append `[EOS]`.

        Returns:
            For one string without `sequence_length`: a list of ids. For a
            list of strings: a `(batch_size, sequence_length)` `int32` array
            padded with 0 (to the longest row if `sequence_length` is None).
        """
        texts, single = _check_text(text)
        if sequence_length is not None and (
            not isinstance(sequence_length, int) or sequence_length <= 0
        ):
            raise ValueError(
                "sequence_length must be a positive integer, got "
                f"{sequence_length}."
            )
        rows = []
        for t in texts:
            ids = [self.token_to_id(tok) for tok in self.split(t)]
            if add_sos:
                ids = [SPECIAL_TOKENS.sos_id] + ids
            if add_eos:
                ids = ids + [SPECIAL_TOKENS.eos_id]
            rows.append(ids)
        if single and sequence_length is None:
            return rows[0]
        length = sequence_length or max([len(r) for r in rows] + [1])
        out = np.zeros((len(rows), length), dtype="int32")
        for i, r in enumerate(rows):
            r = r[:length]
            out[i, : len(r)] = r
        return out[0] if single else out

    def detokenize(self, ids):
        """Turns ids back into text.

        `[PAD]` and `[SOS]` are dropped, decoding stops at the first
        `[EOS]`, unknown tokens come back as `[UNK]`.

        Args:
            ids: a list of ids (one sequence) or a 2-D array / list of
                lists (a batch).

        Returns:
            A string, or a list of strings for a batch.
        """
        array = np.asarray(ids)
        if array.dtype.kind not in "iu":
            raise TypeError(
                f"ids must be integers, got an array of dtype {array.dtype}."
            )
        if array.ndim == 1:
            return self._detokenize_row(array)
        if array.ndim == 2:
            return [self._detokenize_row(row) for row in array]
        raise ValueError(f"ids must be 1-D or 2-D, got shape {array.shape}.")

    def _detokenize_row(self, row):
        tokens = []
        for i in row:
            i = int(i)
            if i == SPECIAL_TOKENS.eos_id:
                break
            if i in (SPECIAL_TOKENS.pad_id, SPECIAL_TOKENS.sos_id):
                continue
            tokens.append(self.id_to_token(i))
        return self.join(tokens)

    def __call__(self, text, **kwargs):
        return self.tokenize(text, **kwargs)
