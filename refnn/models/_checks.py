"""Argument checks shared by the Transformer-family models (not public)."""


def check_positive_int(name, value):
    """Raises `ValueError` unless `value` is an int ≥ 1 (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}.")


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
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
