import keras
import numpy as np
import pytest

from refnn.text import (
    analogy,
    analogy_accuracy,
    cosine_similarity,
    dot_similarity,
    nearest_neighbours,
)

# Hand-made 3-D "embeddings": axis 0 royalty, axis 1 gender, axis 2 fruit.
VOCAB = ["king", "queen", "man", "woman", "orange", "banana"]
E = np.array(
    [
        [1.0, 1.0, 0.0],
        [1.0, -1.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, -1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.1, 0.0, 0.9],
    ],
    "float32",
)


def test_dot_product_signs():
    # Seed: positive = similar, zero = unrelated, negative = opposite.
    assert float(dot_similarity([1.0, 2.0], [3.0, -1.0])) == 1.0
    assert float(dot_similarity(E[2], E[4])) == 0.0
    assert float(dot_similarity(E[2], E[3])) < 0


def test_cosine_matches_keras():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    np.testing.assert_allclose(
        cosine_similarity(a, b),
        -keras.losses.cosine_similarity(a, b),
        atol=1e-6,
    )
    assert float(cosine_similarity([1.0, 0.0], [1.0, 1.0])) == pytest.approx(
        2**-0.5
    )


def test_neighbours_and_analogy():
    top = nearest_neighbours("orange", E, VOCAB, k=1)
    assert top[0][0] == "banana"
    # king.man = 1 (cosine 0.71) beats king.queen = 0.
    assert nearest_neighbours("king", E, VOCAB, k=1, metric="dot")[0] == (
        "man",
        1.0,
    )
    # Seed: woman - man + king ~ queen.
    assert analogy("king", "man", "woman", E, VOCAB)[0][0] == "queen"
    assert (
        analogy_accuracy([("king", "man", "woman", "queen")], E, VOCAB) == 1.0
    )


def test_bad_input_raises():
    with pytest.raises(ValueError, match="not in the vocabulary"):
        nearest_neighbours("apple", E, VOCAB)
    with pytest.raises(ValueError, match="one row"):
        nearest_neighbours("king", E[:3], VOCAB)
    with pytest.raises(ValueError, match="metric"):
        nearest_neighbours("king", E, VOCAB, metric="l2")
