import keras
import numpy as np
import pytest

from refnn.data.text import make_sentiment
from refnn.export import check_parity, export_savedmodel
from refnn.models import RNNClassifier
from refnn.testing import TestCase
from refnn.text import WordTokenizer


def _np(outputs):
    return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}


def _keras_twin(model, cell_type):
    rnn_cls = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell_type]
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(
        model.vocabulary_size, model.embedding_dim, mask_zero=True
    )(inputs)
    x = rnn_cls(model.units)(x)
    outputs = keras.layers.Dense(model.num_classes, activation="softmax")(x)
    twin = keras.Model(inputs, outputs)
    twin.set_weights(model.get_weights())
    return twin


class RNNClassifierTest(TestCase):
    def setUp(self):
        texts, self.labels = make_sentiment(64, seed=0)
        self.texts = texts
        self.tok = WordTokenizer.from_corpus(texts)
        self.ids = self.tok.tokenize(texts)

    def _model(self, cell_type="lstm", **kwargs):
        model = RNNClassifier(
            self.tok.vocabulary_size,
            2,
            embedding_dim=6,
            units=5,
            cell_type=cell_type,
            vocabulary=self.tok.vocabulary[5:],
            **kwargs,
        )
        model(self.ids[:2])
        return model

    def test_matches_keras_twin_with_padding(self):
        for cell_type in ("lstm", "gru"):
            model = self._model(cell_type)
            twin = _keras_twin(model, cell_type)
            self.assertAllClose(
                model(self.ids), twin(self.ids), atol=1e-5, rtol=1e-5
            )
        # Many-to-one: extra [PAD] columns change nothing.
        padded = np.pad(self.ids, [[0, 0], [0, 3]])
        self.assertAllClose(model(self.ids), model(padded), atol=1e-6)

    def test_saving_round_trip(self):
        model = self._model("gru", sequence_length=7)
        reloaded = self.run_model_saving_test(model, self.ids)
        self.assertEqual(reloaded.vocabulary, model.vocabulary)
        self.assertEqual(reloaded.sequence_length, 7)

    @pytest.mark.large
    def test_export_ids_and_string_in(self):
        model = self._model("lstm")
        texts = ["The film was GREAT, great!", "awful, boring plot...", ""]
        # Core-TF preprocessing in the signature == Python tokenizer path.
        live = model.serve_text(keras.ops.convert_to_tensor(texts))
        self.assertAllClose(
            live["probabilities"], model.predict_text(texts), atol=1e-6
        )
        # One export, both endpoints reloaded in plain TF (two batch sizes,
        # two sequence lengths).
        path = export_savedmodel(model, "clf", base_dir=self.get_temp_dir())
        cases = [{"token_ids": self.ids[:3, :5]}, {"token_ids": self.ids[3:8]}]
        check_parity(path, cases, [_np(model.serve(**c)) for c in cases])
        cases = [{"text": np.array(texts)}, {"text": np.array(self.texts[:5])}]
        expected = [
            _np(model.serve_text(keras.ops.convert_to_tensor(c["text"])))
            for c in cases
        ]
        check_parity(path, cases, expected, endpoint="serve_text")

    def test_learns_sentiment(self):
        model = self._model("gru")
        texts, labels = make_sentiment(400, seed=1)
        ids = self.tok.tokenize(texts)
        model.compile(
            keras.optimizers.Adam(0.02),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(ids, labels, epochs=8, batch_size=32, verbose=0)
        test_texts, test_labels = make_sentiment(200, seed=2)
        probs = model.predict_text(test_texts)
        accuracy = np.mean(probs.argmax(-1) == test_labels)
        self.assertGreater(accuracy, 0.85)

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="cell_type"):
            RNNClassifier(10, 2, cell_type="tree")
        with pytest.raises(ValueError, match="num_classes"):
            RNNClassifier(10, 1)
        with pytest.raises(ValueError, match="vocabulary_size must equal"):
            RNNClassifier(10, 2, vocabulary=["a", "b"])
        with pytest.raises(ValueError, match="predict_text"):
            RNNClassifier(10, 2).predict_text(["a"])
