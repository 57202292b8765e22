import keras
import numpy as np
import pytest

from refnn.models import CharLanguageModel
from refnn.testing import TestCase


class CharLanguageModelTest(TestCase):
    def _model(self, cell_type="gru"):
        model = CharLanguageModel(
            "abc ", embedding_dim=4, units=8, cell_type=cell_type
        )
        model(np.array([[5, 6, 7]], "int32"))
        return model

    def test_stepping_equals_full_sequence(self):
        for cell_type in ("gru", "lstm", "simple_rnn"):
            model = self._model(cell_type)
            text = model.sample("ab", length=6, temperature=0)
            self.assertEqual(len(text), 8)
            # Greedy step-by-step generation (carrying the RNN state) ==
            # arg-max of one full-sequence call on the generated text.
            ids = np.array([model.tokenizer.tokenize(text)], "int32")
            logits = keras.ops.convert_to_numpy(model(ids))[0]
            predicted = logits[:, 5:].argmax(-1) + 5
            np.testing.assert_array_equal(predicted[1:-1], ids[0, 2:])

    def test_sampling_is_seeded(self):
        model = self._model()
        a = model.sample("a", 20, temperature=1.5, seed=3)
        self.assertEqual(a, model.sample("a", 20, temperature=1.5, seed=3))
        self.assertTrue(set(a) <= set("abc "))

    def test_learns_a_pattern(self):
        model = self._model()
        text = "abc " * 8
        ids = np.array([model.tokenizer.tokenize(text)] * 8, "int32")
        model.compile(
            keras.optimizers.Adam(0.05),
            keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, ignore_class=0
            ),
        )
        model.fit(ids[:, :-1], ids[:, 1:], epochs=40, verbose=0)
        self.assertEqual(model.sample("ab", 10, temperature=0), "abc abc abc ")

    def test_saving_and_export(self):
        model = self._model("lstm")
        x = np.array([[5, 6, 7, 8, 0], [6, 6, 0, 0, 0]], "int32")
        reloaded = self.run_model_saving_test(model, x)
        self.assertEqual(
            reloaded.sample("ab", 5, 0.0), model.sample("ab", 5, 0.0)
        )

    @pytest.mark.large
    def test_export_variable_batch_and_length(self):
        model = self._model("lstm")
        self.run_export_test(
            model,
            [
                {"token_ids": np.array([[5, 6, 7]], "int32")},
                {"token_ids": np.array([[5, 6, 7, 8, 0]] * 3, "int32")},
            ],
        )

    def test_invalid_args_raise(self):
        model = self._model()
        with pytest.raises(ValueError, match="prompt"):
            model.sample("", 3)
        with pytest.raises(ValueError, match="temperature"):
            model.sample("a", 3, temperature=-1)
        with pytest.raises(ValueError, match="length"):
            model.sample("a", -1)
        with pytest.raises(ValueError, match="single characters"):
            CharLanguageModel(["ab"])
