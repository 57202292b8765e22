import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from refnn import tutorials
from refnn.cli import main


def _last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def test_train_mlp_export_then_predict_all_input_forms(tmp_path, capsys):
    sm = tmp_path / "sm"
    rc = main(
        [
            "train",
            "mlp",
            "--dataset",
            "digits",
            "--epochs",
            "2",
            "--units",
            "16",
            "--batch-size",
            "64",
            "--export",
            "--name",
            "digits_mlp",
            "--savedmodels",
            str(sm),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    result = _last_json(out)
    assert result["model"] == "mlp" and result["dataset"] == "digits"
    assert result["test_accuracy"] > 0.5  # 10 classes: chance is 0.1
    path = Path(result["export"])
    assert path == sm / "digits_mlp" / "1"
    assert (path / "saved_model.pb").exists()

    rows = np.random.default_rng(0).uniform(size=(3, 64)).astype("float32")
    fn = tf.saved_model.load(str(path)).signatures["serving_default"]
    want = {k: v.numpy() for k, v in fn(features=tf.constant(rows)).items()}

    (tmp_path / "rows.json").write_text(
        json.dumps({"instances": rows.tolist()})
    )
    assert (
        main(["predict", str(path), "--input", str(tmp_path / "rows.json")])
        == 0
    )
    got = _last_json(capsys.readouterr().out)["predictions"]
    assert [p["label"] for p in got] == want["label"].tolist()
    np.testing.assert_allclose(
        [p["probabilities"] for p in got], want["probabilities"], atol=1e-6
    )

    (tmp_path / "cols.json").write_text(
        json.dumps({"inputs": {"features": rows.tolist()}})
    )
    # The model folder resolves to its highest version.
    assert (
        main(
            [
                "predict",
                str(sm / "digits_mlp"),
                "--input",
                str(tmp_path / "cols.json"),
            ]
        )
        == 0
    )
    got = _last_json(capsys.readouterr().out)["outputs"]
    assert got["label"] == want["label"].tolist()

    (tmp_path / "plain.json").write_text(json.dumps(rows[:1].tolist()))
    np.save(tmp_path / "rows.npy", rows)
    for name in ("plain.json", "rows.npy"):
        assert (
            main(["predict", str(path), "--input", str(tmp_path / name)]) == 0
        )
        got = _last_json(capsys.readouterr().out)["predictions"]
        assert got[0]["label"] == int(want["label"][0])

    assert main(["show", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)
    signature = info["signatures"]["serving_default"]
    assert signature["inputs"]["features"]["shape"] == [None, 64]
    card = info["model_card"]
    assert card["model_class"] == "MLP"
    assert card["training_data"]["dataset"] == "digits"
    assert card["training_data"]["num_features"] == 64
    assert card["metrics"]["test_accuracy"] == result["test_accuracy"]
    assert card["hyperparameters"]["units"] == [16, 10]
    assert card["hyperparameters"]["batch_size"] == 64
    assert card["input_scaling"].startswith("8x8 pixel intensities")

    # evaluate re-creates the test split from the card's seed: the export
    # scores what training measured on the live model.
    assert (
        main(["evaluate", str(sm / "digits_mlp"), "--dataset", "digits"]) == 0
    )
    evaluated = _last_json(capsys.readouterr().out)
    assert evaluated["examples"] == result["test_examples"] == 270
    assert evaluated["accuracy"] == result["test_accuracy"]

    # Errors name the problem, on stderr, with a non-zero status.
    (tmp_path / "bad.json").write_text('{"instances": [[1, 2]')
    cases = [
        (["--input", str(tmp_path / "bad.json")], "malformed JSON"),
        (["--input", str(tmp_path / "missing.json")], "not found"),
        (
            ["--input", str(tmp_path / "rows.npy"), "--endpoint", "nope"],
            "unknown endpoint 'nope'",
        ),
    ]
    for extra, message in cases:
        assert main(["predict", str(path)] + extra) == 2
        assert message in capsys.readouterr().err
    (tmp_path / "wide.json").write_text(json.dumps({"instances": [[1, 2]]}))
    assert (
        main(["predict", str(path), "--input", str(tmp_path / "wide.json")])
        == 2
    )
    assert "must have shape [-1,64]" in capsys.readouterr().err
    (tmp_path / "keys.json").write_text(json.dumps({"rows": [[1, 2]]}))
    assert (
        main(["predict", str(path), "--input", str(tmp_path / "keys.json")])
        == 2
    )
    assert "Missing 'inputs' or 'instances' key" in capsys.readouterr().err


@pytest.mark.parametrize(
    "model, dataset", [("perceptron", "blobs"), ("logistic", "spirals")]
)
def test_train_linear_models(model, dataset, capsys):
    rc = main(["train", model, "--dataset", dataset, "--epochs", "2"])
    assert rc == 0
    result = _last_json(capsys.readouterr().out)
    assert result["model"] == model
    assert 0.0 <= result["test_accuracy"] <= 1.0
    if model == "perceptron":  # separable blobs
        assert result["test_accuracy"] >= 0.9


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "mlp", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["train", "perceptron", "--dataset", "digits"], "needs 2 classes"),
        (["train", "mlp", "--dataset", "xor", "--units", "8,x"], "--units"),
        (["train", "mlp", "--dataset", "xor", "--epochs", "0"], "--epochs"),
        (
            ["predict", "/nonexistent/model", "--input", "x.json"],
            "no SavedModel found",
        ),
        (["tutorials", "no_such_tutorial"], "no tutorial matches"),
    ],
)
def test_bad_arguments_exit_nonzero_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--checkpoint-dir", "{file}"], "--checkpoint-dir '{file}' is a file"),
        (["--logdir", "{file}"], "--logdir '{file}' is a file"),
        (["--export", "--savedmodels", "{file}/sub"], "cannot be created"),
        (["--name", "n"], "--name is the export's name: it needs --export"),
        (["--epochs", "-3"], "--epochs must be a positive integer, got -3"),
        (["--batch-size", "0"], "--batch-size must be a positive integer"),
        (["--learning-rate", "nan"], "positive finite number, got nan"),
    ],
)
def test_train_arguments_checked_before_tensorflow(
    extra, message, tmp_path, capsys
):
    file = tmp_path / "a_file"
    file.write_text("not a folder")
    extra = [e.format(file=file) for e in extra]
    argv = ["train", "mlp", "--dataset", "xor"] + extra
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert message.format(file=file) in err
    assert out == ""  # nothing ran
    assert not (tmp_path / "savedmodels").exists()


def test_data_and_dataset_arguments(tmp_path, capsys):
    assert (
        main(["train", "perceptron", "--dataset", "blobs", "--units", "4"]) == 2
    )
    assert "--units applies to the mlp only" in capsys.readouterr().err
    for name, message in (("x.txt", "must be a .csv or .npz"), ("m.csv", "")):
        assert main(["train", "mlp", "--data", str(tmp_path / name)]) == 2
        assert (message or "not found") in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["train", "mlp", "--dataset", "xor", "--data", "a.csv"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_argparse_errors(capsys):
    for argv in (["train", "svm", "--dataset", "xor"], ["train", "mlp"], []):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "invalid choice: 'svm'" in capsys.readouterr().err


def _fake_tutorials(folder):
    folder.mkdir()
    (folder / "01_good.py").write_text(
        '"""\nTitle: A good one\n"""\nimport json, sys\n'
        'print("training...")\n'
        'print("RESULT " + json.dumps({"model": "M", "dataset": "D", '
        '"metric": "acc", "value": 0.9, "export": None, '
        '"quick": "--quick" in sys.argv}))\n'
    )
    (folder / "02_broken.py").write_text("raise SystemExit(3)\n")
    (folder / "03_silent.py").write_text("print('no result')\n")
    (folder / "helper.py").write_text("")
    return folder


def test_tutorial_selection(tmp_path):
    folder = _fake_tutorials(tmp_path / "t")
    names = [p.stem for p in tutorials.list_tutorials(folder)]
    assert names == ["01_good", "02_broken", "03_silent"]
    for key in ("01", "1", "good", "01_good", "01_good.py"):
        assert [p.stem for p in tutorials.select_tutorials(key, folder)] == [
            "01_good"
        ]
    assert len(tutorials.select_tutorials("all", folder)) == 3
    assert [
        p.stem for p in tutorials.select_tutorials(["03", "good", "1"], folder)
    ] == ["01_good", "03_silent"]
    with pytest.raises(ValueError, match="no tutorial matches 'x'"):
        tutorials.select_tutorials("x", folder)
    assert tutorials.tutorial_title(folder / "01_good.py") == "A good one"


def test_runner_collects_results_and_reports_failures(tmp_path):
    import io

    folder = _fake_tutorials(tmp_path / "t")
    out = io.StringIO()
    rows, ok = tutorials.run_tutorials(
        "all", quick=True, directory=folder, out=out
    )
    assert not ok
    assert [r["status"] for r in rows] == ["ok", "FAILED", "FAILED"]
    assert rows[0]["result"]["quick"] is True  # --quick passed through
    assert rows[0]["value"] == 0.9 and rows[1]["returncode"] == 3
    text = out.getvalue()
    assert "training..." in text  # the output is streamed
    assert "02_broken FAILED (exit code 3)" in text
    assert "03_silent FAILED (no RESULT line)" in text
    table = text[text.index("| tutorial") :].splitlines()
    assert len(table) == 2 + 3
    assert "| 01_good" in table[2] and "| 0.9 " in table[2]
    assert "FAILED" in table[3] and "FAILED" in table[4]
    assert "1/3 passed" in text


def test_console_script_lists_tutorials():
    script = Path(sys.executable).parent / "refnn"
    proc = subprocess.run(
        [str(script), "tutorials", "--list"],
        capture_output=True,
        text=True,
        check=True,
    )
    listed = [line.split()[0] for line in proc.stdout.splitlines()]
    assert listed == [p.stem for p in tutorials.list_tutorials()]
    bad = subprocess.run([str(script), "train"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_tutorials_list_does_not_import_tensorflow():
    # The console script's path: refnn_cli loads refnn/cli.py on its own.
    code = (
        "import sys, refnn_cli\n"
        "status = refnn_cli.main(['tutorials', '--list'])\n"
        "heavy = sorted({'tensorflow', 'keras', 'refnn'} & set(sys.modules))\n"
        "print('IMPORTED', heavy, status)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "IMPORTED [] 0"
    listed = [line.split()[0] for line in lines[:-1]]
    assert listed == [p.stem for p in tutorials.list_tutorials()]
    assert proc.stderr == ""


def test_import_refnn_hides_start_up_lines_unless_verbose():
    code = "import refnn_cli\nrefnn_cli.import_refnn()\nprint('ready')\n"
    drop = ("REFNN_VERBOSE", "TF_ENABLE_ONEDNN_OPTS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    quiet = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "ready\n"
    assert "absl" not in quiet.stderr and "oneDNN" not in quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**env, "REFNN_VERBOSE": "1"},
    )
    assert loud.returncode == 0, loud.stderr
    # TensorFlow's own start-up lines, shown as they come (this CPU build
    # always writes the oneDNN notice).
    assert "oneDNN custom operations are on" in loud.stderr


def _export_tiny(tmp_path):
    """A 3 -> 2 Dense model saved as tiny.keras and exported by the CLI."""
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(tmp_path / "tiny.keras")
    sm = tmp_path / "sm"
    assert (
        main(["export", str(tmp_path / "tiny.keras"), "--savedmodels", str(sm)])
        == 0
    )
    return model, sm


def test_export_a_keras_file(tmp_path, capsys):
    model, sm = _export_tiny(tmp_path)
    assert "tiny/1" in capsys.readouterr().out
    x = np.ones((2, 3), "float32")
    fn = tf.saved_model.load(str(sm / "tiny" / "1")).signatures[
        "serving_default"
    ]
    np.testing.assert_allclose(
        fn(features=tf.constant(x))["outputs"].numpy(),
        model.predict(x, verbose=0),
        atol=1e-6,
    )
    # Exporting the same version again is refused without touching it.
    assert (
        main(
            [
                "export",
                str(tmp_path / "tiny.keras"),
                "--version",
                "1",
                "--savedmodels",
                str(sm),
            ]
        )
        == 1
    )
    assert "already exists" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nope.keras")]) == 2


def test_predict_shows_progress_on_a_file_of_several_batches(tmp_path, capsys):
    model, sm = _export_tiny(tmp_path)
    capsys.readouterr()
    x = np.random.default_rng(0).normal(size=(2000, 3)).astype("float32")
    np.save(tmp_path / "rows.npy", x)
    argv = [
        "predict",
        str(sm / "tiny" / "1"),
        "--input",
        str(tmp_path / "rows.npy"),
    ]
    assert main(argv + ["--batch-size", "500"]) == 0
    out, err = capsys.readouterr()
    progress = [line for line in err.splitlines() if "rows" in line]
    assert progress == [
        f"refnn predict: rows {n}/2000" for n in (500, 1000, 1500, 2000)
    ]
    assert "refnn predict: formatting the response" in err
    fn = tf.saved_model.load(str(sm / "tiny" / "1")).signatures[
        "serving_default"
    ]
    expected = fn(features=tf.constant(x))["outputs"].numpy()
    np.testing.assert_allclose(
        np.array(json.loads(out)["predictions"]), expected, atol=1e-6
    )
    # One batch (the default size): no progress lines, the same answer.
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    np.testing.assert_allclose(
        np.array(json.loads(out)["predictions"]), expected, atol=1e-6
    )
    assert main(argv + ["--batch-size", "0"]) == 2
    assert "--batch-size must be a positive integer, got 0" in (
        capsys.readouterr().err
    )


def test_tutorials_hide_tensorflow_start_up_lines(
    tmp_path, capsys, monkeypatch
):
    folder = tmp_path / "t"
    folder.mkdir()
    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called "
        "are written to STDERR",
        "I0000 00:00:1796203047.943223   18989 cudart_stub.cc:31] Could not "
        "find cuda drivers on your machine, GPU will not be used.",
    ]
    result = {"model": "M", "dataset": "D", "metric": "m", "value": 1}
    (folder / "01_noisy.py").write_text(
        "import sys\n"
        + "".join(f"print({line!r}, file=sys.stderr)\n" for line in noise)
        + "print('the lesson')\n"
        + f"print('RESULT ' + {json.dumps(result)!r})\n"
    )
    monkeypatch.setattr(tutorials, "TUTORIALS_DIR", folder)
    assert main(["tutorials", "01"]) == 0
    out = capsys.readouterr().out
    assert "the lesson" in out and "1/1 passed" in out
    assert "cuda drivers" not in out and "absl" not in out
    assert main(["tutorials", "--verbose", "01"]) == 0
    out = capsys.readouterr().out
    assert all(line in out for line in noise)
