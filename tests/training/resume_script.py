"""Helper run by fault_tolerance_test.py in a subprocess (not a test).

usage: python resume_script.py BACKUP_DIR OUT.npy [KILL_EPOCH]
Trains a small MLP with BackupAndRestore; with KILL_EPOCH the process dies
(os._exit, like a SIGKILL: no cleanup) in the middle of that epoch.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from refnn.training import set_seed  # noqa: E402


class _Kill(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.kill_epoch = epoch
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.kill_epoch and batch == 1:
            os._exit(17)


def main(backup_dir, out, kill_epoch=None):
    set_seed(7)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="bce")
    callbacks = [keras.callbacks.BackupAndRestore(backup_dir)]
    if kill_epoch is not None:
        callbacks.append(_Kill(kill_epoch))
    model.fit(
        x,
        y,
        epochs=5,
        batch_size=16,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    np.save(out, np.concatenate([w.ravel() for w in model.get_weights()]))
    np.save(
        out.replace(".npy", "_opt.npy"),
        np.concatenate(
            [np.ravel(v.numpy()) for v in model.optimizer.variables]
        ),
    )


if __name__ == "__main__":
    kill = int(sys.argv[3]) if len(sys.argv) > 3 else None
    main(sys.argv[1], sys.argv[2], kill)
