"""Argument checks shared by the Transformer-family models (not public)."""

from refnn._validation import positive_int as check_positive_int
from refnn._validation import rate


def check_transformer_args(hidden_dim, num_heads, dropout, **sizes):
    """Checks the sizes every Transformer-family model takes.

    Args:
        hidden_dim: model width; must divide evenly into `num_heads` heads.
        num_heads: number of attention heads.
        dropout: dropout rate in [0, 1).
        **sizes: further `name=value` pairs that must be positive integers
            (vocabulary sizes, lengths, layer counts, intermediate_dim).
    """
    for name, value in (
        *sizes.items(),
        ("hidden_dim", hidden_dim),
        ("num_heads", num_heads),
    ):
        check_positive_int(name, value)
    if hidden_dim % num_heads:
        raise ValueError(
            "hidden_dim must be divisible by num_heads, got "
            f"hidden_dim={hidden_dim} and num_heads={num_heads}."
        )
    rate("dropout", dropout)
