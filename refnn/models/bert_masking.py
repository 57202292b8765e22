"""Masked-LM input masking (BERT's 15% rule, split 80/10/10)."""

import math

import numpy as np

from refnn.text.special_tokens import SPECIAL_TOKENS


def mask_tokens(
    token_ids,
    vocabulary_size,
    mask_rate=0.15,
    max_predictions=None,
    mask_token_id=SPECIAL_TOKENS.mask_id,
    unselectable_ids=(0, 1, 2, 3, 4),
    mask_token_rate=0.8,
    random_token_rate=0.1,
    seed=None,
):
    """Selects tokens to predict and corrupts them for masked-LM training.

    Each ordinary token (not in `unselectable_ids`: padding and the special
    tokens) is selected with probability `mask_rate`. A selected token is
    replaced by `[MASK]` with probability `mask_token_rate` (0.8), by a
    uniformly drawn ordinary token with probability `random_token_rate`
    (0.1), and kept unchanged otherwise (0.1). The model must then predict
    the original token at every selected position.

    Args:
        token_ids: int array `(batch_size, sequence_length)`.
        vocabulary_size: int, the token id range (random replacements are
            drawn from the ids not in `unselectable_ids`).
        mask_rate: float in (0, 1], selection probability.
        max_predictions: int, prediction slots per row (default
            `ceil(2 * mask_rate * sequence_length)`); extra selections are
            left unmasked.
        mask_token_id: int, the `[MASK]` id.
        unselectable_ids: ids never selected.
        mask_token_rate: float, share of selections set to `[MASK]`.
        random_token_rate: float, share set to a random token.
        seed: None or int.

    Returns:
        A dict of int32 / float32 numpy arrays: `token_ids` (the corrupted
        input), `mask_positions` `(batch_size, max_predictions)`,
        `mask_ids` (original tokens there, 0 in unused slots) and
        `mask_weights` (1.0 for used slots, 0.0 otherwise).

    Example:

    >>> out = mask_tokens(np.full((2, 20), 9), vocabulary_size=30, seed=0)
    >>> sorted(out)
    ['mask_ids', 'mask_positions', 'mask_weights', 'token_ids']

    References:
        seeds/002: "Transformer Architecture" (Architecture Variants: BERT,
        masked language modeling).
    """
    ids = np.asarray(token_ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            "token_ids must be an integer array (batch_size, sequence_length),"
            f" got shape {ids.shape} and dtype {ids.dtype}."
        )
    if not 0.0 < mask_rate <= 1.0:
        raise ValueError(f"mask_rate must be in (0, 1], got {mask_rate}.")
    if not (
        0.0 <= mask_token_rate
        and 0.0 <= random_token_rate
        and mask_token_rate + random_token_rate <= 1.0
    ):
        raise ValueError(
            "mask_token_rate and random_token_rate must be >= 0 with a sum "
            f"<= 1, got {mask_token_rate} and {random_token_rate}."
        )
    batch, length = ids.shape
    if max_predictions is None:
        max_predictions = max(1, math.ceil(2 * mask_rate * length))
    if (
        isinstance(max_predictions, bool)
        or not isinstance(max_predictions, int)
        or max_predictions < 1
    ):
        raise ValueError(
            f"max_predictions must be a positive integer, got "
            f"{max_predictions}."
        )
    ordinary = np.setdiff1d(np.arange(vocabulary_size), unselectable_ids)
    if ordinary.size == 0:
        raise ValueError(
            f"vocabulary_size={vocabulary_size} leaves no ordinary token."
        )
    rng = np.random.default_rng(seed)
    selected = ~np.isin(ids, unselectable_ids)
    selected &= rng.random(ids.shape) < mask_rate
    # Keep the first `max_predictions` selections of each row.
    selected &= np.cumsum(selected, axis=1) <= max_predictions
    choice = rng.random(ids.shape)
    to_mask = selected & (choice < mask_token_rate)
    to_random = (
        selected
        & (choice >= mask_token_rate)
        & (choice < mask_token_rate + random_token_rate)
    )
    corrupted = ids.astype("int32").copy()
    corrupted[to_mask] = mask_token_id
    corrupted[to_random] = rng.choice(ordinary, size=int(to_random.sum()))

    positions = np.zeros((batch, max_predictions), "int32")
    labels = np.zeros((batch, max_predictions), "int32")
    weights = np.zeros((batch, max_predictions), "float32")
    for row in range(batch):
        cols = np.flatnonzero(selected[row])
        positions[row, : cols.size] = cols
        labels[row, : cols.size] = ids[row, cols]
        weights[row, : cols.size] = 1.0
    return {
        "token_ids": corrupted,
        "mask_positions": positions,
        "mask_ids": labels,
        "mask_weights": weights,
    }
