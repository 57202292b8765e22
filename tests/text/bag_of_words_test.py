import keras
import numpy as np
import pytest

from refnn.testing import TestCase
from refnn.text import BagOfWords, WordTokenizer

CORPUS = ["win money now", "meeting at noon", "win a free prize now now"]


class BagOfWordsTest(TestCase):
    def test_equals_text_vectorization(self):
        tok = WordTokenizer.from_corpus(CORPUS)
        texts = ["Win, win money NOW!", "lunch at noon", "free free free"]
        ids = tok.tokenize(texts)
        # TextVectorization columns: [UNK] then the vocabulary; ours:
        # [PAD] [UNK] [SOS] [EOS] [MASK] then the vocabulary.
        columns = [1] + list(range(5, tok.vocabulary_size))
        for mode, tv_mode in (("binary", "multi_hot"), ("count", "count")):
            ours = np.asarray(BagOfWords(tok.vocabulary_size, mode)(ids))
            tv = keras.layers.TextVectorization(
                vocabulary=tok.vocabulary[5:], output_mode=tv_mode
            )
            self.assertAllEqual(ours[:, columns], np.asarray(tv(texts)))
            self.assertAllEqual(ours[:, [0, 2, 3, 4]], np.zeros((3, 4)))

    def test_seed_binary_vector(self):
        # Seed: for each token id set a one at that position.
        out = BagOfWords(8, "binary")(np.array([[5, 7, 5, 0, 0]]))
        self.assertAllEqual(out, [[0, 0, 0, 0, 0, 1, 0, 1]])
        out = BagOfWords(8, "count")(np.array([[5, 7, 5, 0, 0]]))
        self.assertAllEqual(out, [[0, 0, 0, 0, 0, 2, 0, 1]])

    @pytest.mark.large
    def test_layer(self):
        self.run_layer_test(
            BagOfWords,
            {"vocabulary_size": 9, "mode": "count"},
            np.array([[5, 6, 6, 0], [8, 7, 0, 0]], "int32"),
            expected_output_shape=(2, 9),
            run_training=False,
            variable_input_data=np.array([[5, 6, 0], [8, 7, 6]], "int32"),
        )

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="mode must be one of"):
            BagOfWords(5, mode="tfidf")
        with pytest.raises(ValueError, match="vocabulary_size"):
            BagOfWords(0)
        with pytest.raises(TypeError, match="token_ids must be integers"):
            BagOfWords(5)(np.zeros((1, 2), "float32"))
