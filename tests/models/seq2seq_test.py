import keras
import numpy as np
import pytest

from refnn.data.seq2seq_tasks import (
    DATE_SOURCE_CHARS,
    DATE_TARGET_CHARS,
    encode_pairs,
    exact_match,
    make_date_translation,
)
from refnn.export import check_parity, export_savedmodel
from refnn.models import Seq2Seq
from refnn.testing import TestCase
from refnn.text import SPECIAL_TOKENS


def _np(outputs):
    return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}


class Seq2SeqTest(TestCase):
    def _model(self, cell_type="gru", units=16, max_decode_length=11):
        model = Seq2Seq(
            DATE_SOURCE_CHARS,
            DATE_TARGET_CHARS,
            embedding_dim=8,
            units=units,
            cell_type=cell_type,
            max_decode_length=max_decode_length,
        )
        src, tgt = make_date_translation(6, seed=0)
        enc, dec_in, dec_out = encode_pairs(
            src, tgt, model.source_tokenizer, model.target_tokenizer
        )
        inputs = {"encoder_inputs": enc, "decoder_inputs": dec_in}
        model(inputs)
        return model, inputs, dec_out

    def test_greedy_decoding_agrees_with_teacher_forcing(self):
        for cell_type in ("gru", "lstm"):
            model, inputs, _ = self._model(cell_type)
            greedy = keras.ops.convert_to_numpy(
                model.greedy_decode(inputs["encoder_inputs"])
            )
            # Feeding the greedy tokens back as teacher-forcing inputs gives
            # the same arg-max at every step before [EOS].
            dec_in = np.concatenate(
                [
                    np.full((len(greedy), 1), SPECIAL_TOKENS.sos_id),
                    greedy[:, :-1],
                ],
                axis=1,
            ).astype("int32")
            logits = model(
                {
                    "encoder_inputs": inputs["encoder_inputs"],
                    "decoder_inputs": dec_in,
                }
            )
            logits = keras.ops.convert_to_numpy(logits)
            logits[..., [0, 2, 4]] = -np.inf  # never emitted by greedy
            argmax = logits.argmax(-1)
            for g, a in zip(greedy, argmax):
                n = (
                    len(g)
                    if SPECIAL_TOKENS.eos_id not in g
                    else (list(g).index(SPECIAL_TOKENS.eos_id) + 1)
                )
                np.testing.assert_array_equal(g[:n], a[:n])

    def test_source_padding_changes_nothing(self):
        model, inputs, _ = self._model()
        padded = dict(inputs)
        padded["encoder_inputs"] = np.pad(
            inputs["encoder_inputs"], [[0, 0], [0, 4]]
        )
        self.assertAllClose(model(inputs), model(padded), atol=1e-6)

    def test_saving_round_trip(self):
        model, inputs, _ = self._model("lstm")
        reloaded = self.run_model_saving_test(model, inputs)
        self.assertEqual(
            reloaded.translate(["12 March 2021"]),
            model.translate(["12 March 2021"]),
        )

    @pytest.mark.large
    def test_export_variable_batch_and_length(self):
        # A short decoding loop keeps the traced graph (and the test) small.
        model, inputs, _ = self._model(max_decode_length=4)
        enc = inputs["encoder_inputs"]
        path = export_savedmodel(model, "s2s", base_dir=self.get_temp_dir())
        cases = [{"encoder_inputs": enc[:2, :12]}, {"encoder_inputs": enc}]
        expected = [_np(model.serve(**c)) for c in cases]
        check_parity(path, cases, expected)
        # String in, string out: the graph's char lookup and join equal the
        # Python tokenizers.
        texts = np.array(["12 March 2021", "dec 31 1999", "", "€ 1"])
        live = _np(model.serve_text(keras.ops.convert_to_tensor(texts)))
        self.assertEqual(
            [t.decode() for t in live["translation"]],
            model.translate(texts.tolist(), max_length=4),
        )
        check_parity(path, {"text": texts}, live, endpoint="translate")

    @pytest.mark.large
    def test_learns_date_translation(self):
        model, _, _ = self._model(units=64)
        src, tgt = make_date_translation(3000, seed=0)
        enc, dec_in, dec_out = encode_pairs(
            src, tgt, model.source_tokenizer, model.target_tokenizer
        )
        model.compile(
            keras.optimizers.Adam(0.01),
            keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, ignore_class=0
            ),
        )
        model.fit(
            {"encoder_inputs": enc, "decoder_inputs": dec_in},
            dec_out,
            epochs=8,
            batch_size=64,
            verbose=0,
        )
        test_src, test_tgt = make_date_translation(200, seed=1)
        self.assertGreater(
            exact_match(model.translate(test_src), test_tgt), 0.5
        )

    def test_invalid_args_raise(self):
        with pytest.raises(ValueError, match="units"):
            Seq2Seq("ab", "cd", units=0)
        with pytest.raises(ValueError, match="cell_type"):
            Seq2Seq("ab", "cd", cell_type="tree")
        model, inputs, _ = self._model()
        with pytest.raises(TypeError, match="inputs must be a dict"):
            model(inputs["encoder_inputs"])
