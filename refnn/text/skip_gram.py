"""Skip-gram word embeddings with negative sampling (word2vec)."""

import keras
import numpy as np
from keras import ops


def skipgram_pairs(
    sequences,
    vocabulary_size,
    window_size=2,
    num_negatives=4,
    seed=0,
    ignore_ids=(0,),
):
    """Builds (target, context + negatives, labels) training examples.

    For every token `w_t` and every context word `w_{t+j}`,
    `1 <= |j| <= window_size`, one example holds the true context word
    (label 1) and `num_negatives` words drawn from the unigram
    distribution raised to the power 3/4 (label 0), as in word2vec.

    Args:
        sequences: list of lists (or a 2-D array) of token ids.
        vocabulary_size: number of ids.
        window_size: context half-width.
        num_negatives: negatives per positive pair.
        seed: integer seed of the negative sampler.
        ignore_ids: ids that are never targets, contexts or negatives
            (padding and other special tokens).

    Returns:
        `(targets, contexts, labels)`: `int32` `(N,)`, `int32`
        `(N, 1 + num_negatives)` and `float32` `(N, 1 + num_negatives)`
        whose first column is 1 and the rest 0.
    """
    if not isinstance(window_size, int) or window_size <= 0:
        raise ValueError(
            f"window_size must be a positive integer, got {window_size}."
        )
    if not isinstance(num_negatives, int) or num_negatives < 0:
        raise ValueError(
            f"num_negatives must be a non-negative integer, got "
            f"{num_negatives}."
        )
    ignore = set(ignore_ids)
    counts = np.zeros(vocabulary_size, dtype="float64")
    targets, positives = [], []
    for seq in sequences:
        seq = [int(t) for t in seq if int(t) not in ignore]
        for t in seq:
            counts[t] += 1
        for i, w in enumerate(seq):
            lo, hi = max(0, i - window_size), min(len(seq), i + window_size + 1)
            for j in range(lo, hi):
                if j != i:
                    targets.append(w)
                    positives.append(seq[j])
    if not targets:
        raise ValueError("sequences hold no (target, context) pair.")
    probs = counts**0.75
    probs /= probs.sum()
    rng = np.random.default_rng(seed)
    negatives = rng.choice(
        vocabulary_size, size=(len(targets), num_negatives), p=probs
    )
    contexts = np.concatenate(
        [np.asarray(positives)[:, None], negatives], axis=1
    ).astype("int32")
    labels = np.zeros(contexts.shape, dtype="float32")
    labels[:, 0] = 1.0
    return np.asarray(targets, dtype="int32"), contexts, labels


@keras.saving.register_keras_serializable(package="refnn")
class SkipGram(keras.Model):
    """Skip-gram with negative sampling: learns word embeddings.

    Each word has a target vector `v_w` (the embedding we keep) and a
    context vector `u_c`; the model scores a (word, context) pair by their
    dot product and is trained with the logistic loss to tell true context
    words (label 1) from sampled negatives (label 0):

        s(w, c) = v_w · u_c
        loss = -log σ(s(w, c+)) - Σ_k log σ(-s(w, c_k-))

    which is `BinaryCrossentropy(from_logits=True)` on the scores.

    Args:
        vocabulary_size: number of ids.
        embedding_dim: embedding size.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: dict with `target` `(batch_size,)` and `context`
            `(batch_size, num_contexts)` int ids.

    Returns:
        Scores (logits) `(batch_size, num_contexts)`.

    Example:

    >>> model = SkipGram(10, 4)
    >>> model({"target": np.array([1]), "context": np.array([[2, 3]])}).shape
    TensorShape([1, 2])

    References:
        seed 002, "Understanding Embedding Vectors in Machine Learning",
        "Word Embeddings" (Word2Vec: skip-gram) and "Self-Supervised
        Learning" (predict context from input); "Computing Similarity: Dot
        Product".
    """

    def __init__(self, vocabulary_size, embedding_dim=32, **kwargs):
        super().__init__(**kwargs)
        for name, v in (
            ("vocabulary_size", vocabulary_size),
            ("embedding_dim", embedding_dim),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v}.")
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.target_embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, name="target_embedding"
        )
        self.context_embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, name="context_embedding"
        )

    def call(self, inputs):
        v = self.target_embedding(inputs["target"])  # (B, D)
        u = self.context_embedding(inputs["context"])  # (B, K, D)
        return ops.einsum("bd,bkd->bk", v, u)  # (B, K)

    @property
    def embeddings(self):
        """The learned word vectors, `(vocabulary_size, embedding_dim)`."""
        return self.target_embedding.embeddings

    def serve(self, token_ids):
        return {"embeddings": self.target_embedding(token_ids)}

    def serving_signatures(self):
        return {
            "serving_default": (self.serve, {"token_ids": ((None,), "int32")})
        }

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "embedding_dim": self.embedding_dim,
        }
