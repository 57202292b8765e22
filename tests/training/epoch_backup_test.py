"""EpochBackup: atomic epoch backups and an explicit resume."""

import numpy as np
import pytest

from refnn.data import EpochBatches
from refnn.models import MLP
from refnn.training import EpochBackup


def _model():
    model = MLP([8, 3], output_activation="softmax")
    model.compile("adam", loss="sparse_categorical_crossentropy")
    model(np.zeros((1, 4), "float32"))
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0).astype("int32")
    return EpochBatches(x, y, batch_size=16, seed=3)


def _train(backup, epochs, start=0):
    model = _model()
    batches = _data()
    if backup is not None:
        start = backup.restore(model)
    callbacks = [batches.callback()] + ([backup] if backup else [])
    model.fit(
        batches,
        epochs=epochs,
        initial_epoch=start,
        callbacks=callbacks,
        shuffle=False,
        verbose=0,
    )
    return model


def test_resume_after_a_stop_equals_an_unbroken_run(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    whole = _train(None, 4)
    backup = EpochBackup(tmp_path)
    keras.utils.set_random_seed(0)
    _train(backup, 2)  # stops after 2 of 4 epochs
    assert sorted(backup.backups()) == [2]  # only the newest is kept
    # A write that was killed half-way leaves a partial file, never a backup.
    (tmp_path / ".partial").mkdir()
    (tmp_path / ".partial" / "epoch-00003.weights.h5").write_bytes(b"\0" * 7)
    keras.utils.set_random_seed(0)
    resumed = _train(backup, 4)
    assert sorted(backup.backups()) == [4]
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_empty_folder_restores_nothing(tmp_path):
    assert EpochBackup(tmp_path / "none").restore(_model()) == 0


def test_backup_of_another_model_is_a_clear_error(tmp_path):
    other = MLP([5, 3], output_activation="softmax")
    other.compile("adam", loss="sparse_categorical_crossentropy")
    other(np.zeros((1, 2), "float32"))
    other.save_weights(tmp_path / "epoch-00001.weights.h5")
    with pytest.raises(ValueError, match="does not fit this model"):
        EpochBackup(tmp_path).restore(_model())
