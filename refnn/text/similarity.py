"""Similarity of embedding vectors: dot product, cosine, neighbours, analogies.

References:
    seed 002, "What Are Embedding Vectors?": "Computing Similarity: Dot
    Product" (multiply corresponding values and sum; positive = similar,
    zero = unrelated, negative = opposite) and "Example Calculations"
    (woman - man + king ~ queen).
"""

import numpy as np
from keras import ops


def dot_similarity(a, b):
    """Dot product `a · b = Σ_i a_i b_i` over the last axis.

    Args:
        a: `(..., dim)` vectors.
        b: `(..., dim)` vectors, broadcastable with `a`.

    Returns:
        `(...)` similarities.

    Example:

    >>> float(dot_similarity([1.0, 2.0], [3.0, -1.0]))
    1.0
    """
    a = ops.convert_to_tensor(a, "float32")
    b = ops.convert_to_tensor(b, "float32")
    return ops.sum(a * b, axis=-1)


def cosine_similarity(a, b, epsilon=1e-12):
    """Cosine of the angle: `a · b / (|a| |b|)`, in [-1, 1].

    Same formula as `keras.losses.cosine_similarity` without its minus sign
    (the loss is the negative similarity).

    Example:

    >>> round(float(cosine_similarity([1.0, 0.0], [1.0, 1.0])), 4)
    0.7071
    """
    a = ops.convert_to_tensor(a, "float32")
    b = ops.convert_to_tensor(b, "float32")
    na = ops.sqrt(ops.maximum(ops.sum(a * a, axis=-1), epsilon))
    nb = ops.sqrt(ops.maximum(ops.sum(b * b, axis=-1), epsilon))
    return ops.sum(a * b, axis=-1) / (na * nb)


def _matrix_and_index(embeddings, vocabulary):
    matrix = np.asarray(ops.convert_to_numpy(embeddings), dtype="float32")
    vocabulary = list(vocabulary)
    if matrix.ndim != 2 or matrix.shape[0] != len(vocabulary):
        raise ValueError(
            "embeddings must be a (vocabulary_size, dim) matrix with one row "
            f"per vocabulary entry; got shape {matrix.shape} for "
            f"{len(vocabulary)} words."
        )
    return matrix, {w: i for i, w in enumerate(vocabulary)}


def _row(index, word):
    if word not in index:
        raise ValueError(f"word {word!r} is not in the vocabulary.")
    return index[word]


def _closest(matrix, vector, vocabulary, k, exclude, metric):
    if metric == "cosine":
        scores = ops.convert_to_numpy(cosine_similarity(matrix, vector[None]))
    elif metric == "dot":
        scores = ops.convert_to_numpy(dot_similarity(matrix, vector[None]))
    else:
        raise ValueError(f"metric must be 'cosine' or 'dot', got {metric!r}.")
    order = np.argsort(-scores, kind="stable")
    out = []
    for i in order:
        w = vocabulary[i]
        if w in exclude:
            continue
        out.append((w, float(scores[i])))
        if len(out) == k:
            break
    return out


def nearest_neighbours(
    word, embeddings, vocabulary, k=5, metric="cosine", exclude=()
):
    """The `k` words most similar to `word`.

    Args:
        word: a vocabulary word.
        embeddings: `(vocabulary_size, dim)` matrix (e.g. an `Embedding`
            layer's `embeddings`).
        vocabulary: the words, one per row.
        k: how many neighbours.
        metric: `"cosine"` or `"dot"`.
        exclude: words to skip (besides `word` itself), e.g. special tokens.

    Returns:
        A list of `(word, similarity)` pairs, most similar first.
    """
    matrix, index = _matrix_and_index(embeddings, vocabulary)
    vector = matrix[_row(index, word)]
    return _closest(
        matrix, vector, list(vocabulary), k, {word, *exclude}, metric
    )


def analogy(a, b, c, embeddings, vocabulary, k=1, exclude=()):
    """Words closest (cosine) to `v(a) - v(b) + v(c)`, skipping a, b, c.

    `analogy("king", "man", "woman", ...)` asks "man is to king as woman is
    to ?" (seed: woman - man + king ~ queen).

    Returns:
        A list of `(word, cosine)` pairs.
    """
    matrix, index = _matrix_and_index(embeddings, vocabulary)
    vector = (
        matrix[_row(index, a)] - matrix[_row(index, b)] + matrix[_row(index, c)]
    )
    return _closest(
        matrix, vector, list(vocabulary), k, {a, b, c, *exclude}, "cosine"
    )


def analogy_accuracy(questions, embeddings, vocabulary, k=1, exclude=()):
    """Share of `(a, b, c, expected)` questions whose answer is in the top k.

    Args:
        questions: iterable of `(a, b, c, expected)` word tuples, read as
            `a - b + c ~ expected`.

    Returns:
        A float in [0, 1].
    """
    questions = list(questions)
    if not questions:
        raise ValueError("questions must not be empty.")
    hits = 0
    for a, b, c, expected in questions:
        top = analogy(a, b, c, embeddings, vocabulary, k=k, exclude=exclude)
        hits += expected in [w for w, _ in top]
    return hits / len(questions)
