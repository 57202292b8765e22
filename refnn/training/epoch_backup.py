"""Epoch backups that a kill at any moment cannot leave half-written."""

import os
import re
import shutil
from pathlib import Path

import keras

_NAME = re.compile(r"^epoch-(\d+)\.weights\.h5$")


class EpochBackup(keras.callbacks.Callback):
    """Backs up the model and optimizer state at every epoch end, atomically.

    `keras.callbacks.BackupAndRestore` writes the weights file in place and
    then, separately, the epoch number: a process killed between the two
    writes resumes one epoch late (or from a truncated file). Here each
    backup is one file whose name carries the epoch, written beside its
    final name and then renamed (`os.replace` is atomic), so the folder
    only ever holds complete backups; the older one is removed afterwards.

    The resume is explicit and uses only `fit`'s public arguments:

    ```python
    backup = EpochBackup("ckpt")
    start = backup.restore(model)      # 0 when the folder holds no backup
    model.fit(data, epochs=10, initial_epoch=start, callbacks=[backup])
    ```

    With data whose batch order depends only on (seed, epoch) (for example
    `refnn.data.EpochBatches`), a run killed at any point and resumed ends
    with the same weights as an uninterrupted one.

    Args:
        backup_dir: the folder for the backups (created when needed).
    """

    def __init__(self, backup_dir):
        super().__init__()
        self.backup_dir = Path(backup_dir)

    def backups(self):
        """`{epochs_done: path}` of the complete backups in the folder."""
        found = {}
        if self.backup_dir.is_dir():
            for path in self.backup_dir.iterdir():
                match = _NAME.match(path.name)
                if match:
                    found[int(match.group(1))] = path
        return found

    def restore(self, model):
        """Loads the newest backup into a built `model`.

        Returns:
            The number of epochs it holds (pass it to `fit` as
            `initial_epoch`), or 0 when there is none.
        """
        found = self.backups()
        if not found:
            return 0
        epochs = max(found)
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(found[epochs])
        except Exception as e:  # a backup of another model, say
            raise ValueError(
                f"--checkpoint-dir {str(self.backup_dir)!r} holds a backup "
                f"({found[epochs].name}) that does not fit this model; "
                f"use another folder or delete it ({e})"
            ) from None
        return epochs

    def on_epoch_end(self, epoch, logs=None):
        """Writes `epoch-{epoch + 1}.weights.h5`, then drops older backups."""
        partial = self.backup_dir / ".partial"
        partial.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1:05d}.weights.h5"
        self.model.save_weights(partial / name, overwrite=True)
        os.replace(partial / name, self.backup_dir / name)
        for done, path in self.backups().items():
            if done != epoch + 1:
                path.unlink(missing_ok=True)

    def on_train_end(self, logs=None):
        """Removes the folder of unfinished writes."""
        shutil.rmtree(self.backup_dir / ".partial", ignore_errors=True)
