import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn.export import (
    check_parity,
    describe,
    export_savedmodel,
    load_savedmodel,
    resolve_version,
)
from refnn.export.parity import _compare


class TinyClassifier(keras.Model):
    """A tiny model declaring a named serving signature."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(3, activation="softmax")

    def call(self, x):
        return self.dense(x)

    def serving_signatures(self):
        return {
            "serving_default": (
                self.serve,
                {"features": ((None, 4), "float32")},
            ),
            "logits_sum": (
                self.total,
                {"features": ((None, 4), "float32"), "bias": ((), "float32")},
            ),
            "shout": (self.shout, {"text": ((None,), "string")}),
        }

    def serve(self, features):
        probs = self(features, training=False)
        return {"probabilities": probs, "label": keras.ops.argmax(probs, -1)}

    def shout(self, text):
        # A string endpoint with core tf.strings ops only.
        upper = tf.strings.upper(text)
        return {"upper": upper, "length": tf.strings.length(text)}

    def total(self, features, bias):
        return keras.ops.sum(self(features), axis=-1) + bias


def _classifier():
    model = TinyClassifier()
    model(np.zeros((1, 4), "float32"))
    return model


def _sequential():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])


def test_named_inputs_and_outputs(tmp_path):
    path = export_savedmodel(_classifier(), "clf", base_dir=tmp_path)
    assert path == tmp_path / "clf" / "1"
    loaded = tf.saved_model.load(str(path))
    assert set(loaded.signatures) == {"serving_default", "logits_sum", "shout"}
    fn = loaded.signatures["serving_default"]
    args, kwargs = fn.structured_input_signature
    assert args == ()
    assert list(kwargs) == ["features"]
    assert kwargs["features"].shape.as_list() == [None, 4]
    assert set(fn.structured_outputs) == {"probabilities", "label"}
    two = loaded.signatures["logits_sum"].structured_input_signature[1]
    assert set(two) == {"features", "bias"}
    # A bare-tensor result is named "outputs".
    assert set(loaded.signatures["logits_sum"].structured_outputs) == {
        "outputs"
    }
    info = describe(path)
    assert info["serving_default"]["inputs"] == {
        "features": {"dtype": "float32", "shape": [None, 4]}
    }
    assert info["serving_default"]["outputs"]["label"]["shape"] == [None]


def test_parity_at_two_batch_sizes_in_fresh_process(tmp_path):
    model = _classifier()
    path = export_savedmodel(model, "clf", base_dir=tmp_path)
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(n, 4)).astype("float32") for n in (2, 7)]
    expected = [
        {k: keras.ops.convert_to_numpy(v) for k, v in model.serve(x).items()}
        for x in xs
    ]
    text = np.array(["hello world", "é"])
    got = check_parity(
        path,
        # float64 rows are cast to the signature's float32, like TF Serving.
        [{"features": xs[0]}, {"features": xs[1].astype("float64")}]
        + [{"text": text}],
        expected
        + [
            {
                "upper": np.array(["HELLO WORLD", "é"]),
                "length": np.array([11, 2], "int32"),
            }
        ],
        endpoint=["serving_default", "serving_default", "shout"],
    )
    assert [g["probabilities"].shape for g in got[:2]] == [(2, 3), (7, 3)]
    np.testing.assert_allclose(got[1]["probabilities"].sum(-1), 1.0, 1e-5)
    # The same comparison flags a perturbed expectation, naming the case.
    bad = dict(expected[1], probabilities=expected[1]["probabilities"] + 1e-3)
    with pytest.raises(AssertionError, match="case 1.*probabilities"):
        _compare(got[1], bad, 1e-5, 1e-5, "case 1")


def test_compare_checks_shapes_missing_outputs_and_exact_ints():
    actual = {"a": np.zeros((2, 3), "float32"), "b": np.array([1, 2])}
    _compare(actual, {"a": np.zeros((2, 3)) + 1e-7}, 1e-5, 0, "t")
    with pytest.raises(AssertionError, match="missing"):
        _compare(actual, {"c": np.zeros(1)}, 1e-5, 0, "t")
    with pytest.raises(AssertionError, match="shape"):
        _compare(actual, {"a": np.zeros((3, 2))}, 1e-5, 0, "t")
    with pytest.raises(AssertionError, match="'b'"):
        _compare(actual, {"b": np.array([1, 3])}, 1e-5, 0, "t")


def test_versioning_and_refusal_to_overwrite(tmp_path):
    model = _sequential()
    p1 = export_savedmodel(model, "m", base_dir=tmp_path)
    p2 = export_savedmodel(model, "m", base_dir=tmp_path)
    p7 = export_savedmodel(model, "m", version=7, base_dir=tmp_path)
    p8 = export_savedmodel(model, "m", base_dir=tmp_path)
    assert [p.name for p in (p1, p2, p7, p8)] == ["1", "2", "7", "8"]
    assert resolve_version(tmp_path / "m") == p8
    before = sorted(q.name for q in p2.rglob("*"))
    with pytest.raises(ValueError, match="already exists"):
        export_savedmodel(model, "m", version=2, base_dir=tmp_path)
    assert sorted(q.name for q in p2.rglob("*")) == before
    # No temporary folders are left behind.
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "1",
        "2",
        "7",
        "8",
    ]


def test_failed_export_leaves_existing_versions_intact(tmp_path):
    model = _sequential()
    p1 = export_savedmodel(model, "m", base_dir=tmp_path)

    def broken(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        export_savedmodel(
            model,
            "m",
            base_dir=tmp_path,
            signatures={"serving_default": (broken, {"x": ((None, 4), "f4")})},
        )
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1"]
    x = np.ones((2, 4), "float32")
    out = load_savedmodel(p1).signatures["serving_default"](
        features=tf.constant(x)
    )
    np.testing.assert_allclose(
        out["outputs"].numpy(), model.predict(x, verbose=0), atol=1e-6
    )


@pytest.mark.parametrize("name", ["", "a/b", "../x", "a\\b", None, ".hidden"])
def test_bad_names_raise(tmp_path, name):
    with pytest.raises(ValueError, match="name"):
        export_savedmodel(_sequential(), name, base_dir=tmp_path)


@pytest.mark.parametrize("version", [0, -1, 1.5, "2", True])
def test_bad_versions_raise(tmp_path, version):
    with pytest.raises(ValueError, match="version"):
        export_savedmodel(_sequential(), "m", version, base_dir=tmp_path)


def test_unbuilt_model_raises_clear_error(tmp_path):
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        export_savedmodel(model, "m", base_dir=tmp_path)


def test_malformed_signature_raises(tmp_path):
    model = _sequential()
    with pytest.raises(ValueError, match="signature 'x'"):
        export_savedmodel(
            model, "m", base_dir=tmp_path, signatures={"x": model}
        )
    with pytest.raises(TypeError, match="input 'a'"):
        export_savedmodel(
            model,
            "m",
            base_dir=tmp_path,
            signatures={"x": (model, {"a": "float32"})},
        )


def test_default_signature_of_subclassed_model(tmp_path):
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(2)

        def call(self, x):
            return self.d(x)

    model = Sub()
    x = np.ones((3, 5), "float32")
    y = model(x)
    path = export_savedmodel(model, "sub", base_dir=tmp_path)
    out = load_savedmodel(path).signatures["serving_default"](
        features=tf.constant(x)
    )
    np.testing.assert_allclose(out["outputs"].numpy(), y, atol=1e-6)


def test_saved_model_cli_lists_the_signature(tmp_path):
    path = export_savedmodel(_classifier(), "clf", base_dir=tmp_path)
    cli = Path(sys.executable).parent / "saved_model_cli"
    proc = subprocess.run(
        [str(cli), "show", "--dir", str(path), "--all"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = proc.stdout
    assert "signature_def['serving_default']" in out
    assert "inputs['features']" in out
    assert "outputs['probabilities']" in out
    assert "outputs['label']" in out


def test_classifier_signatures_export_probabilities_and_label(tmp_path):
    from refnn.export import classifier_signatures

    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(3, activation="softmax")]
    )
    path = export_savedmodel(
        model,
        "seq_clf",
        base_dir=tmp_path,
        signatures=classifier_signatures(model, 5),
    )
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    served = load_savedmodel(path).signatures["serving_default"](
        features=tf.constant(x)
    )
    probs = np.asarray(model(x))
    np.testing.assert_allclose(served["probabilities"], probs, atol=1e-6)
    np.testing.assert_array_equal(served["label"], probs.argmax(-1))
    with pytest.raises(ValueError, match="num_features must be a positive"):
        classifier_signatures(model, 0)
