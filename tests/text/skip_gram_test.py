import keras
import numpy as np
import pytest

from refnn.data.text import COUNTRIES, GENDER_PAIRS, make_corpus
from refnn.testing import TestCase
from refnn.text import (
    SkipGram,
    WordTokenizer,
    analogy_accuracy,
    nearest_neighbours,
    skipgram_pairs,
)


class SkipGramTest(TestCase):
    def test_pairs(self):
        targets, contexts, labels = skipgram_pairs(
            [[5, 6, 7, 0]], 8, window_size=1, num_negatives=2, ignore_ids=(0,)
        )
        # Positives: every word with each neighbour within the window.
        pairs = sorted(zip(targets.tolist(), contexts[:, 0].tolist()))
        self.assertEqual(pairs, [(5, 6), (6, 5), (6, 7), (7, 6)])
        self.assertEqual(contexts.shape, (4, 3))
        self.assertAllEqual(labels, [[1, 0, 0]] * 4)
        # Negatives come from the unigram^0.75 distribution: never id 0.
        self.assertTrue(set(contexts[:, 1:].ravel()) <= {5, 6, 7})

    def test_scores_are_dot_products_and_loss(self):
        model = SkipGram(10, 4)
        x = {"target": np.array([1, 2]), "context": np.array([[3, 4], [5, 1]])}
        scores = np.asarray(model(x))
        v = np.asarray(model.target_embedding.embeddings)
        u = np.asarray(model.context_embedding.embeddings)
        expected = np.array(
            [[v[1] @ u[3], v[1] @ u[4]], [v[2] @ u[5], v[2] @ u[1]]]
        )
        self.assertAllClose(scores, expected, atol=1e-6)
        # loss = -log σ(s+) - log σ(-s-), averaged: the BCE on logits.
        y = np.array([[1.0, 0.0], [1.0, 0.0]], "float32")
        sig = 1 / (1 + np.exp(-expected))
        by_hand = np.mean(-(y * np.log(sig) + (1 - y) * np.log(1 - sig)))
        bce = keras.losses.BinaryCrossentropy(from_logits=True)(y, scores)
        self.assertAllClose(bce, by_hand, atol=1e-6)
        self.run_model_saving_test(model, x)

    @pytest.mark.large
    def test_learns_neighbours_and_analogies(self):
        corpus = make_corpus(2000, seed=0)
        tok = WordTokenizer.from_corpus(corpus)
        targets, contexts, labels = skipgram_pairs(
            [tok.tokenize(s) for s in corpus],
            tok.vocabulary_size,
            window_size=2,
            num_negatives=4,
            ignore_ids=range(5),
        )
        model = SkipGram(tok.vocabulary_size, 32)
        model.compile(
            keras.optimizers.Adam(0.01),
            keras.losses.BinaryCrossentropy(from_logits=True),
        )
        model.fit(
            {"target": targets, "context": contexts},
            labels,
            epochs=5,
            batch_size=512,
            verbose=0,
        )
        vocab = tok.vocabulary
        top = [
            w for w, _ in nearest_neighbours("cat", model.embeddings, vocab, 3)
        ]
        self.assertTrue(
            set(top)
            <= {"dog", "horse", "cow", "sheep", "lion", "tiger", "rabbit"},
            top,
        )
        gender = [
            (f1, m1, m2, f2)
            for m1, f1 in GENDER_PAIRS
            for m2, f2 in GENDER_PAIRS
            if m1 != m2
        ]
        capitals = [
            (p1, c1, c2, p2)
            for c1, p1, _ in COUNTRIES
            for c2, p2, _ in COUNTRIES
            if c1 != c2
        ]
        self.assertGreater(
            analogy_accuracy(gender, model.embeddings, vocab), 0.8
        )
        self.assertGreater(
            analogy_accuracy(capitals, model.embeddings, vocab), 0.8
        )

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="embedding_dim"):
            SkipGram(10, 0)
        with pytest.raises(ValueError, match="window_size"):
            skipgram_pairs([[5, 6]], 8, window_size=0)
        with pytest.raises(ValueError, match="no \\(target, context\\) pair"):
            skipgram_pairs([[5]], 8)
