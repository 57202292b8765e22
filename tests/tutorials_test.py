"""A tutorial runs as the script a learner types, with its own flags.

Every tutorial also runs, in quick mode, as the notebook built from it
(`tests/docs/notebooks_test.py`, which checks what each one promises); this
test keeps the script path covered once: `python tutorials/01_perceptron.py
--quick --out DIR --savedmodels DIR` through the runner behind
`refnn tutorials`, its `RESULT` line, its plots and its export.
"""

from pathlib import Path

import pytest

from refnn import tutorials


@pytest.mark.large
def test_tutorial_script_quick_run(tmp_path):
    path = tutorials.TUTORIALS_DIR / "01_perceptron.py"
    out = tmp_path / "out"
    savedmodels = tmp_path / "savedmodels"
    row = tutorials.run_tutorial(
        path,
        quick=True,
        extra_args=["--out", out, "--savedmodels", savedmodels],
    )
    tail = row["output"][-4000:]
    assert row["returncode"] == 0, f"{path.name} failed:\n{tail}"
    result = row["result"]
    assert result is not None, f"{path.name} printed no RESULT line:\n{tail}"
    assert result["model"] == "Perceptron"
    assert result["value"] == 1.0  # separable blobs: every point right
    pngs = sorted(out.glob("*.png"))
    assert [p.name for p in pngs] == ["perceptron_progression.png"]
    assert pngs[0].stat().st_size > 0
    export = Path(result["export"])
    assert (export / "saved_model.pb").exists()
    assert savedmodels.resolve() in export.resolve().parents
    assert f"plots written to {out}" in row["output"]
    assert f"exported to {export}" in row["output"]


def test_progress_callback_lines(capsys):
    import keras
    import numpy as np

    x = np.zeros((8, 2), "float32")
    y = np.zeros((8, 1), "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    # Every step and every epoch is "late": a line for each.
    model.fit(
        x,
        y,
        batch_size=4,
        epochs=2,
        verbose=0,
        callbacks=[tutorials.progress(every=0)],
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "  epoch 1/2, step 1/2",
        "  epoch 1/2, step 2/2",
        "  epoch 1/2",
        "  epoch 2/2, step 1/2",
        "  epoch 2/2, step 2/2",
        "  epoch 2/2",
    ]
    assert all("loss 0" in line for line in lines)  # zero targets, weights
    # A fast fit: one line, after the last epoch.
    model.fit(
        x,
        y,
        batch_size=4,
        epochs=3,
        verbose=0,
        callbacks=[tutorials.progress(every=3600)],
    )
    assert capsys.readouterr().out == "  epoch 3/3: loss 0\n"
