"""A new user's first hour: what went wrong, each item now checked.

`MEASURED` is the list of problems found by trying refnn as a new user
would, README in hand. Each row names the item, who fixes it and the check
below that reproduces it and now gets a clear error or the right result.
Rows marked ``readme``, ``w3`` and ``p1`` are checked by
`tests/readme_tour_test.py`, `test_w3_killed_run_resumes_to_the_same_weights`
and `test_p1_no_tutorials_found_is_an_error` with `tests/wheel_test.py`.
Rows fixed elsewhere are listed for completeness with their owner and the
test file that covers them; they are not run (nor counted) here.
"""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from refnn.cli import main
from refnn.data import make_dataset
from refnn.export import check_finite_weights, export_savedmodel
from refnn.saving import AtomicSaveMixin, load_model, save_model
from refnn.training.epoch_backup import EpochBackup

HERE = "first hour"  # the rows checked in this file
PREDICT = "refnn predict (tests/cli_test.py, serving)"
MODELS = "models' train_step/compile (tests/models/)"
TUTORIALS = "tutorial scripts (tests/tutorials_test.py)"

# (id, what was measured, owner, check)
MEASURED = [
    ("W1a", "MLP.save after fit raises NotImplementedError", MODELS, None),
    ("W1b", "a failed save truncates an existing .keras file", HERE, "w1b"),
    ("W2a", "train --savedmodels FILE fails after training", HERE, "w2a"),
    ("W2b", "train --name ../x fails after training", HERE, "w2b"),
    ("W3", "Ctrl-C loses the whole run: no checkpoint/resume", HERE, "w3"),
    ("S1a", "--learning-rate inf exports NaN weights", HERE, "s1a"),
    ("S1b", "a model with NaN weights is exported", HERE, "s1b"),
    ("S2", "fit on arrays/files with NaN trains to NaN loss", HERE, "s2"),
    # S2 also: test_s2_fit_on_numpy_arrays_refuses_non_finite_values below.
    ("S3", "predict with null/NaN/Infinity answers label 0", PREDICT, None),
    ("S4", "a label -1 trains without complaint", HERE, "s4"),
    ("S5", "a GPT export maps token id -1 to the last entry", PREDICT, None),
    ("S6", "README tour unseeded, diverges 1 run in 4", HERE, "readme"),
    ("S7", "README tour exports under the CLI's name", HERE, "readme"),
    ("U1", "truncated saved_model.pb: 29-line traceback", PREDICT, None),
    ("U2", "empty export: a message about tags=", PREDICT, None),
    ("U3", "ragged rows: NumPy's inhomogeneous shape", PREDICT, None),
    ("U4", ".keras without import refnn.models: class not found", HERE, "u4"),
    ("U5", "garbage .npy: NumPy's pickle advice", PREDICT, None),
    ("U6", "integer labels with a categorical loss", MODELS, None),
    ("K1", "compile(loss=...) ignored by explicit models", MODELS, None),
    ("P1", "wheel ships no tutorials; --list prints nothing", HERE, "p1"),
    ("F1", "~10 s of TensorFlow import before a usage error", HERE, "f1"),
    ("F2", "tutorials 07/14 silent for 40-95 s", TUTORIALS, None),
    ("F3", "200k-row predict silent for 40 s", PREDICT, None),
    ("F4", "oneDNN / cuda drivers / cuInit lines on every command", HERE, "f4"),
    ("M1", "no --version", HERE, "m1"),
    ("M2", "no TensorBoard logs (--logdir)", HERE, "m2"),
    ("M3", "no model card in exports, not shown by refnn show", HERE, "m3"),
    ("M4", "no refnn evaluate", HERE, "m4"),
    ("M5", "no training on the user's own CSV/NumPy data", HERE, "m5"),
]
REPO = Path(__file__).resolve().parents[1]


def _mine():
    return [
        pytest.param(check, id=f"{key}-{check}")
        for key, _, owner, check in MEASURED
        if owner == HERE and check not in ("readme", "w3", "p1")
    ]


def test_the_table_is_complete():
    keys = [row[0] for row in MEASURED]
    assert len(keys) == len(set(keys)) == 30
    for key, _, owner, check in MEASURED:
        assert (owner == HERE) == (check is not None), key
        if check is not None and check not in ("readme", "w3", "p1"):
            assert callable(globals()[f"check_{check}"]), key


def _cli(argv, capsys):
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _blobs_npz(path, n=200, seed=0, features=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    np.savez(path, x=x, y=y)
    return x, y


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """One small MLP trained on a user's .npz through the CLI, exported."""
    root = tmp_path_factory.mktemp("export")
    _blobs_npz(root / "data.npz")
    rc = main(
        [
            "train",
            "mlp",
            "--data",
            str(root / "data.npz"),
            "--epochs",
            "3",
            "--units",
            "8",
            "--export",
            "--name",
            "tiny",
            "--savedmodels",
            str(root / "sm"),
        ]
    )
    assert rc == 0
    return root, root / "sm" / "tiny" / "1"


@pytest.mark.parametrize("check", _mine())
def test_measured_item(check, tmp_path, capsys, export):
    globals()[f"check_{check}"](tmp_path, capsys, export)


class _Unsaveable(AtomicSaveMixin, keras.Model):
    """A model whose save fails half way (its config cannot be built)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(2)

    def call(self, x):
        return self.dense(x)

    def get_config(self):
        raise RuntimeError("cannot serialize this model")


def check_w1b(tmp_path, capsys, export):
    good = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "m.keras"
    save_model(good, path)
    before = path.read_bytes()
    broken = _Unsaveable()
    broken(np.ones((1, 3), "float32"))
    with pytest.raises(RuntimeError, match="cannot serialize"):
        broken.save(path)  # the model's own save() is atomic too
    with pytest.raises(RuntimeError, match="cannot serialize"):
        save_model(broken, path)
    assert path.read_bytes() == before  # byte for byte
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]
    np.testing.assert_array_equal(
        keras.saving.load_model(path).get_weights()[0], good.get_weights()[0]
    )


def _train_argv(tmp_path, *extra):
    _blobs_npz(tmp_path / "d.npz", n=40)
    return ["train", "mlp", "--data", tmp_path / "d.npz", "--epochs", "1"] + [
        *extra
    ]


def test_p1_no_tutorials_found_is_an_error(tmp_path, capsys, monkeypatch):
    from refnn import tutorials

    monkeypatch.setattr(tutorials, "TUTORIALS_DIR", tmp_path)
    rc, out, err = _cli(["tutorials", "--list"], capsys)
    assert rc == 2 and "no tutorials found in" in err and out == ""


def check_w2a(tmp_path, capsys, export):
    (tmp_path / "afile").write_text("x")
    argv = _train_argv(
        tmp_path, "--export", "--savedmodels", tmp_path / "afile"
    )
    rc, out, err = _cli(argv, capsys)
    assert rc == 2 and "is a file, not a folder" in err
    assert "training" not in out  # refused before training started


def check_w2b(tmp_path, capsys, export):
    argv = _train_argv(tmp_path, "--export", "--name", "../x")
    rc, out, err = _cli(argv, capsys)
    assert rc == 2 and "--name must be" in err and "'../x'" in err
    assert "training" not in out


def check_s1a(tmp_path, capsys, export):
    for rate in ("inf", "nan", "-1", "0"):
        argv = _train_argv(tmp_path, "--learning-rate", rate, "--export")
        rc, out, err = _cli(argv, capsys)
        assert rc == 2 and "--learning-rate must be a positive finite" in err
        assert "training" not in out


def check_s1b(tmp_path, capsys, export):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    kernel = model.get_weights()[0]
    kernel[1, 0] = np.nan
    model.set_weights([kernel, model.get_weights()[1]])
    with pytest.raises(ValueError, match=r"non-finite weights.*\(1, 0\)"):
        export_savedmodel(model, "nan", base_dir=tmp_path)
    assert not (tmp_path / "nan").exists() or not any(
        (tmp_path / "nan").iterdir()
    )
    with pytest.raises(ValueError, match="allow_nonfinite=True"):
        check_finite_weights(model)
    path = export_savedmodel(
        model, "nan", base_dir=tmp_path, allow_nonfinite=True
    )
    assert (path / "saved_model.pb").exists()
    # A diverging CLI run (a finite but absurd rate) is not exported.
    argv = _train_argv(tmp_path, "--learning-rate", "1e30", "--epochs", "4")
    argv += ["--export"]
    rc, out, err = _cli(argv + ["--savedmodels", tmp_path / "sm"], capsys)
    assert (
        rc == 1 and "non-finite weights" in err and "--allow-nonfinite" in err
    )
    assert not (tmp_path / "sm" / "mlp_d").exists()


def check_s2(tmp_path, capsys, export):
    x = np.ones((5, 3), "float32")
    x[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"x contains .*nan.* index \(3, 2\)"):
        make_dataset(x, np.zeros(5, "int64"))
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,0\n3,nan,1\n")
    rc, out, err = _cli(["train", "mlp", "--data", tmp_path / "d.csv"], capsys)
    assert rc == 2 and "line 3, column 2: non-finite value 'nan'" in err
    assert "training" not in out


def check_s4(tmp_path, capsys, export):
    with pytest.raises(ValueError, match="label -1 at index 2"):
        make_dataset(
            np.ones((4, 2), "float32"), np.array([0, 1, -1, 1]), num_classes=2
        )
    (tmp_path / "d.csv").write_text("1,2,0\n3,4,1\n5,6,-1\n")
    rc, out, err = _cli(["train", "mlp", "--data", tmp_path / "d.csv"], capsys)
    assert rc == 2 and "labels must be integers 0..k-1" in err
    assert "got -1.0 at index 2" in err and "training" not in out
    # fit on NumPy arrays: the classifiers check their labels themselves.
    from refnn.models import MLP, LogisticRegression, Perceptron

    x = np.ones((4, 2), "float32")
    cases = [
        (
            MLP(
                [3, 2],
                output_activation="softmax",
                loss="sparse_categorical_crossentropy",
            ),
            [0, 1, -1, 1],
            r"y must hold class ids, integers in \[0, 2\); got -1 at index 2",
        ),
        (
            LogisticRegression(num_classes=3),
            [0, 3, 1, 1],
            r"class ids in \[0, 3\), got the values \[0, 1, 3\]",
        ),
        (Perceptron(), [0.0, 1.0, 0.5, 1.0], r"0 or 1, got .*0\.5"),
    ]
    for model, y, message in cases:
        model.compile() if isinstance(model, Perceptron) else model.compile(
            "sgd"
        )
        with pytest.raises(ValueError, match=message):
            model.fit(x, np.array(y), verbose=0)


def check_u4(tmp_path, capsys, export):
    from refnn.models import MLP

    mlp = MLP([4, 2], output_activation="softmax")
    mlp(np.ones((1, 3), "float32"))
    path = tmp_path / "mlp.keras"
    mlp.save(path)
    # A fresh process that imports refnn only (not refnn.models) loads it.
    code = (
        "import sys, keras, refnn\n"
        f"m = keras.saving.load_model({str(path)!r})\n"
        "print(type(m).__name__, len(m.get_weights()))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["MLP", "4"]
    # A class from the user's own module: the error says what to import.
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    config["module"] = "my_project.models"
    config["registered_name"] = "my_project>MyNet"
    config["class_name"] = "MyNet"
    files["config.json"] = json.dumps(config).encode()
    other = tmp_path / "mynet.keras"
    with zipfile.ZipFile(other, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    with pytest.raises(TypeError, match="`import my_project.models`"):
        load_model(other)


def check_f1(tmp_path, capsys, export):
    # The console script's launcher parses and validates without TensorFlow.
    code = (
        "import sys, refnn_cli\n"
        "rc = refnn_cli.main(['train', 'mlp', '--dataset', 'digits', "
        "'--units', 'x'])\n"
        "print(rc, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.split() == ["2", "False", "False"]
    assert "--units must be comma-separated positive integers" in proc.stderr


def _console(*argv, timeout=180):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "refnn"), *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def check_f4(tmp_path, capsys, export):
    root, path = export
    quiet = _console("show", path)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    for noise in ("oneDNN", "cuda drivers", "cuInit", "cpu_feature_guard"):
        assert noise not in quiet.stderr
    loud = _console("--verbose", "show", path)
    assert loud.returncode == 0
    assert "cuda drivers" in loud.stderr or "cpu_feature_guard" in loud.stderr


def check_m1(tmp_path, capsys, export):
    import refnn

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"refnn {refnn.__version__}"


def _events(folder):
    tags, graph = set(), False
    for path in Path(folder).glob("*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            graph = graph or bool(event.graph_def)
            for value in event.summary.value:
                tags.add((value.tag, value.metadata.plugin_data.plugin_name))
    return tags, graph


def check_m2(tmp_path, capsys, export):
    argv = _train_argv(tmp_path, "--logdir", tmp_path / "logs", "--units", "3")
    rc, out, err = _cli(argv, capsys)
    assert rc == 0, err
    tags, graph = _events(tmp_path / "logs" / "train")
    assert graph
    assert ("epoch_loss", "scalars") in tags
    assert ("epoch_accuracy", "scalars") in tags
    histograms = {t for t, plugin in tags if plugin == "histograms"}
    assert histograms == {
        f"mlp/{w}_{i}/histogram" for w in ("kernel", "bias") for i in (0, 1)
    }
    val_tags, _ = _events(tmp_path / "logs" / "validation")
    assert ("epoch_loss", "scalars") in val_tags


def check_m3(tmp_path, capsys, export):
    root, path = export
    card = json.loads((path / "assets" / "refnn.json").read_text())
    import refnn

    assert card["refnn_version"] == refnn.__version__
    assert card["model_class"] == "MLP"
    assert card["training_data"]["file"] == str((root / "data.npz").resolve())
    # 15% test of 200 = 30, then 15% of the whole from the remaining 170.
    assert card["training_data"]["examples"] == {
        "train": 139,
        "validation": 31,
        "test": 30,
    }
    assert card["hyperparameters"]["epochs"] == 3
    assert card["hyperparameters"]["units"] == [8, 2]
    assert card["input_scaling"] == "none: rows are fed as given"
    assert set(card["metrics"]) >= {"test_accuracy", "final_loss"}
    rc, out, err = _cli(["show", path], capsys)
    assert rc == 0 and json.loads(out)["model_card"] == card


def check_m4(tmp_path, capsys, export):
    root, path = export
    x, y = _blobs_npz(tmp_path / "other.npz", n=50, seed=7)
    rc, out, err = _cli(
        ["evaluate", path, "--data", tmp_path / "other.npz"], capsys
    )
    assert rc == 0, err
    result = json.loads(out)
    fn = tf.saved_model.load(str(path)).signatures["serving_default"]
    got = fn(features=tf.constant(x))
    want = float(np.mean(got["label"].numpy() == y))
    probs = got["probabilities"].numpy()[np.arange(50), y]
    assert result["examples"] == 50
    assert result["accuracy"] == want
    np.testing.assert_allclose(
        result["log_loss"], -np.mean(np.log(probs + 1e-12)), rtol=1e-6
    )


def check_m5(tmp_path, capsys, export):
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(60, 3))
    labels = (rows[:, 0] > 0).astype(int)
    lines = ["f1,f2,f3,label"] + [
        ",".join(f"{v:.6f}" for v in r) + f",{c}" for r, c in zip(rows, labels)
    ]
    (tmp_path / "mine.csv").write_text("\n".join(lines) + "\n")
    rc, out, err = _cli(
        ["train", "logistic", "--data", tmp_path / "mine.csv", "--epochs", "2"],
        capsys,
    )
    assert rc == 0, err
    assert json.loads(out.splitlines()[-1])["test_examples"] == 9
    bad = [
        ("d.txt", "x", "must be a .csv or .npz file"),
        ("d.csv", "1,2,0\n3,4\n", "line 2 has 2 columns"),
        ("d.csv", "1,x,0\n", "line 1, column 2: expected a number, got 'x'"),
        ("d.csv", "1,2,0.5\n3,4,1\n", "got 0.5 at index 0"),
    ]
    for name, text, message in bad:
        (tmp_path / name).write_text(text)
        rc, out, err = _cli(["train", "mlp", "--data", tmp_path / name], capsys)
        assert rc == 2 and message in err, err
    np.savez(tmp_path / "keys.npz", features=np.ones((3, 2)))
    rc, out, err = _cli(
        ["train", "mlp", "--data", tmp_path / "keys.npz"], capsys
    )
    assert rc == 2 and "needs arrays 'x' and 'y', it has ['features']" in err


def _variables(export_dir):
    """The export's variables by name (e.g. ``mlp/kernel_0:0``)."""
    loaded = tf.saved_model.load(str(export_dir))
    named = {v.name: v.numpy() for v in loaded.variables}
    assert len(named) == len(loaded.variables)  # names are unique
    return named


@pytest.mark.large
def test_w3_killed_run_resumes_to_the_same_weights(tmp_path):
    """SIGKILL mid-epoch, rerun the command: weights equal an unbroken run."""
    _blobs_npz(tmp_path / "d.npz", n=3000, features=16)

    def argv(name):
        return [
            "train",
            "mlp",
            "--data",
            tmp_path / "d.npz",
            "--epochs",
            "3",
            "--batch-size",
            "4",
            "--units",
            "16",
            "--checkpoint-dir",
            tmp_path / f"ckpt_{name}",
            "--export",
            "--name",
            name,
            "--savedmodels",
            tmp_path / "sm",
        ]

    whole = _console(*argv("whole"), timeout=600)
    assert whole.returncode == 0, whole.stderr[-2000:]
    script = Path(sys.executable).parent / "refnn"
    backups = EpochBackup(tmp_path / "ckpt_broken").backups
    proc = subprocess.Popen(
        [str(script), *map(str, argv("broken"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if backups():
                break
            time.sleep(0.05)
        # Kill just after a backup completed: mid-epoch, a whole epoch away
        # from the next backup.
        time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done = max(backups())
    assert 1 <= done < 3
    assert not (tmp_path / "sm" / "broken").exists()
    resumed = _console(*argv("broken"), timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    epochs = [
        line.split()[1]
        for line in resumed.stdout.splitlines()
        if line.startswith("Epoch ")
    ]
    assert epochs[0] == f"{done + 1}/3"  # resumed, not restarted
    want = _variables(tmp_path / "sm" / "whole" / "1")
    got = _variables(tmp_path / "sm" / "broken" / "1")
    assert sorted(got) == sorted(want) and len(want) >= 4
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_s2_fit_on_numpy_arrays_refuses_non_finite_values():
    from refnn.models import MLP, LogisticRegression, Perceptron

    x = np.ones((6, 3), "float32")
    x[4, 1] = np.inf
    y = np.zeros(6, "int64")
    clean = np.ones((6, 3), "float32")
    models = [
        MLP([4, 2], output_activation="softmax"),
        LogisticRegression(num_classes=2),
        Perceptron(),
    ]
    for model in models:
        model.compile() if isinstance(model, Perceptron) else model.compile(
            optimizer="sgd"
        )
        labels = y.astype("float32") if isinstance(model, Perceptron) else y
        with pytest.raises(ValueError, match=r"x contains .*inf.*\(4, 1\)"):
            model.fit(x, labels, verbose=0)
        with pytest.raises(ValueError, match=r"^validation_data: x contains"):
            model.fit(clean, labels, validation_data=(x, labels), verbose=0)
        weights = np.ones(6, "float32")
        weights[2] = np.nan
        with pytest.raises(ValueError, match=r"sample_weight .*nan.* index 2"):
            model.fit(clean, labels, sample_weight=weights, verbose=0)
