"""The special tokens shared by every refnn tokenizer."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class SpecialTokens:
    """Special tokens and their fixed ids, identical across all tokenizers.

    Every refnn tokenizer (word, character, WordPiece, BPE) puts these tokens
    first in its vocabulary, in this order, so that `[PAD]` is always id 0
    (the id that padding and masking use), `[UNK]` is 1, `[SOS]` 2, `[EOS]` 3
    and `[MASK]` 4.

    Args:
        pad: padding token, id 0.
        unk: unknown (out-of-vocabulary) token, id 1.
        sos: start-of-sequence token, id 2.
        eos: end-of-sequence token, id 3.
        mask: mask token for masked language modelling, id 4.

    Example:

    >>> SPECIAL_TOKENS.tokens
    ('[PAD]', '[UNK]', '[SOS]', '[EOS]', '[MASK]')
    >>> SPECIAL_TOKENS.eos_id
    3

    References:
        seed 002, "Understanding Tokenization in NLP", "Special Token
        Handling".
    """

    pad: str = "[PAD]"
    unk: str = "[UNK]"
    sos: str = "[SOS]"
    eos: str = "[EOS]"
    mask: str = "[MASK]"

    @property
    def tokens(self):
        """All special tokens in id order."""
        return (self.pad, self.unk, self.sos, self.eos, self.mask)

    @property
    def pad_id(self):
        return 0

    @property
    def unk_id(self):
        return 1

    @property
    def sos_id(self):
        return 2

    @property
    def eos_id(self):
        return 3

    @property
    def mask_id(self):
        return 4


SPECIAL_TOKENS = SpecialTokens()
