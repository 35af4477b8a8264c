"""What makes a killed run resume exactly: an atomic backup, the state Keras' backup
lacks, and a history trimmed to the restored epoch.

At the end of epoch n the callbacks of a run (see `trainer.run_callbacks`) log
the epoch (`history.csv`, checkpoints), then `ResumableState` writes the state
after n epochs, then the backup of epoch n replaces the previous one. A run
killed at any moment restarts from the backup on disk, with the state of that
same epoch, and `trim_history` removes rows logged after it, so the resumed run
ends with the weights and the history of a run never killed.
"""

import json
import os
import shutil

import keras
import numpy as np
import pandas as pd

from depnet_tf.files import atomic_path, write_large
from depnet_tf.training.callbacks import weight_bytes

BACKUP_FILE = "latest.weights.h5"
STATE_FILE_PREFIXES = ("state-", "best_weights-")  # ResumableState's files


def state_file_names(names):
    """The `ResumableState` files among `names`."""
    return {name for name in names if name.startswith(STATE_FILE_PREFIXES)}


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` whose backup cannot be left half-written.

    Keras writes `latest.weights.h5` in place and the epoch to a separate JSON
    file, so a run killed while saving leaves a truncated HDF5 file that the
    next start cannot open. Here the weights and the epoch go into one file,
    written under a temporary name and renamed into place.

    `before_save(completed_epochs)` is called before each backup is written:
    what it saves (see `ResumableState`) is on disk before the backup that
    needs it, whenever the run is killed.
    """

    EPOCH_ATTR = "depnet_backup_epoch"

    def __init__(self, backup_dir, before_save=None, **kwargs):
        super().__init__(backup_dir, **kwargs)
        self.before_save = before_save

    def _save_model(self):
        import h5py

        if self.before_save is not None:
            self.before_save(self._current_epoch)

        def write(temporary):
            self.model.save_weights(temporary)
            with h5py.File(temporary, "a") as file:
                file.attrs[self.EPOCH_ATTR] = self._current_epoch

        os.makedirs(self.backup_dir, exist_ok=True)
        variables = list(self.model.weights) + list(self.model.optimizer.variables)
        write_large(self._weights_path, write, weight_bytes(variables), "the backup")

    def _load_model(self):
        import h5py

        super()._load_model()
        if os.path.isfile(self._weights_path):
            with h5py.File(self._weights_path, "r") as file:
                if self.EPOCH_ATTR in file.attrs:
                    self.model._initial_epoch = int(file.attrs[self.EPOCH_ATTR])


def backup_epochs(backup_dir):
    """Finished epochs held by the backup in `backup_dir`: 0 without one, None if unreadable."""
    import h5py

    path = os.path.join(backup_dir, BACKUP_FILE)
    if not os.path.isfile(path):
        return 0
    try:
        with h5py.File(path, "r") as file:
            return int(file.attrs.get(AtomicBackupAndRestore.EPOCH_ATTR, 0)) or None
    except OSError:
        return None  # the restore reports it; keep the history as it is


def backup_config(state_dir, epochs):
    """The config digest the run backed up after `epochs` epochs recorded, or None."""
    path = os.path.join(state_dir, f"state-{epochs}.json")
    try:
        with open(path) as file:
            return json.load(file).get("config_sha256")
    except (OSError, ValueError, AttributeError):
        return None


def trim_history(path, epochs):
    """Keep the rows of `history.csv` for the first `epochs` epochs (a resume logs the rest)."""
    if epochs is None or not os.path.isfile(path):
        return
    if epochs == 0:
        os.remove(path)
        return
    table = pd.read_csv(path, dtype=str, keep_default_na=False)  # rows kept as written
    kept = table[table["epoch"].astype(int) < epochs]
    if len(kept) < len(table):
        with atomic_path(path) as temporary:
            kept.to_csv(temporary, index=False)


class ResumableState(keras.callbacks.Callback):
    """Backs up what `keras.callbacks.BackupAndRestore` does not, so resumes are exact.

    `BackupAndRestore` restores the weights, the optimizer and the epoch, but not
    the random-number state of layers such as `Dropout`, nor an
    `IterationEarlyStopping`'s progress and best weights, nor the best value a
    `ModelCheckpoint(save_best_only=True)` has seen (`best_checkpoint`), without
    which the first epoch after a resume would replace the best checkpoint. `save(n)` writes them
    after n finished epochs to `directory/state-<n>.json` (and the best weights
    to `best_weights-<iteration>.npz`); `backup` calls it just before it writes
    its own backup of epoch n. A kill between the two leaves the backup of
    epoch n - 1, whose state file is still there: the two newest generations
    are kept. At the start of training the state of the restored backup's
    epoch is loaded; a finished run removes the folder. Put this callback after
    the backup and the early stopping, so that it restores after both.
    """

    def __init__(
        self, directory, backup, early_stopping=None, best_checkpoint=None, config_sha256=None
    ):
        super().__init__()
        self.directory = directory
        self.config_sha256 = config_sha256  # the run's config, so a resume can check it
        self.early_stopping = early_stopping
        self.best_checkpoint = best_checkpoint
        self._saved_best = None  # the iteration whose best weights are on disk
        backup.before_save = self.save

    def _seed_states(self):
        return [v for v in self.model.variables if "seed_generator_state" in v.path]

    def _state_path(self, epochs):
        return os.path.join(self.directory, f"state-{epochs}.json")

    def _best_path(self, iteration):
        return os.path.join(self.directory, f"best_weights-{iteration}.npz")

    def _read_state(self, epochs):
        path = self._state_path(epochs)
        if os.path.isfile(path):
            with open(path) as file:
                return json.load(file)
        legacy = os.path.join(self.directory, "state.json")  # depnet_tf 0.1.0's one file
        if os.path.isfile(legacy):
            with open(legacy) as file:
                state = json.load(file)
            if state.get("epoch") == epochs - 1:
                return state
        return None

    def on_train_begin(self, logs=None):
        self._saved_best = None
        epochs = int(getattr(self.model, "_initial_epoch", None) or 0)
        if epochs == 0:  # a fresh start: nothing here belongs to this run
            shutil.rmtree(self.directory, ignore_errors=True)
            return
        state = self._read_state(epochs)
        if state is None:
            return
        for variable, value in zip(self._seed_states(), state["seed_states"]):
            variable.assign(np.asarray(value, dtype=variable.dtype))
        if self.best_checkpoint is not None and "best_checkpoint" in state:
            self.best_checkpoint.best = state["best_checkpoint"]
        if self.early_stopping is not None and state.get("early_stopping"):
            best = None
            iteration = state["early_stopping"]["best_iteration"]
            for best_path in (
                self._best_path(iteration),
                os.path.join(self.directory, "best_weights.npz"),  # 0.1.0's name
            ):
                if os.path.isfile(best_path):
                    with np.load(best_path) as data:
                        best = [data[f"w{i}"] for i in range(len(data.files))]
                    break
            self.early_stopping.set_state(state["early_stopping"], best)
            self._saved_best = iteration if best is not None else None

    def save(self, epochs):
        """Write the state after `epochs` finished epochs; keep the previous one."""
        os.makedirs(self.directory, exist_ok=True)
        state = {
            "epochs": epochs,
            "config_sha256": self.config_sha256,
            "seed_states": [v.numpy().tolist() for v in self._seed_states()],
        }
        if self.best_checkpoint is not None:
            best = self.best_checkpoint.best
            state["best_checkpoint"] = None if best is None else float(best)
        stopper = self.early_stopping
        if stopper is not None:
            state["early_stopping"] = stopper.get_state()
            if stopper.best_weights is not None and stopper.best_iteration != self._saved_best:
                with atomic_path(self._best_path(stopper.best_iteration)) as temporary:
                    with open(temporary, "wb") as file:
                        np.savez(file, **{f"w{i}": w for i, w in enumerate(stopper.best_weights)})
                self._saved_best = stopper.best_iteration
        with atomic_path(self._state_path(epochs)) as temporary:
            with open(temporary, "w") as file:
                json.dump(state, file)
        self._forget_older_than(epochs - 1)

    def _forget_older_than(self, epochs):
        """Remove the state files of fewer epochs, and best weights no kept state names."""
        keep = set()
        for name in sorted(os.listdir(self.directory)):
            if name.startswith("state-") and name.endswith(".json"):
                if int(name[6:-5]) < epochs:
                    os.remove(os.path.join(self.directory, name))
                    continue
                with open(os.path.join(self.directory, name)) as file:
                    stopping = json.load(file).get("early_stopping") or {}
                keep.add(os.path.basename(self._best_path(stopping.get("best_iteration"))))
        for name in os.listdir(self.directory):
            if name.startswith("best_weights-") and name not in keep:
                os.remove(os.path.join(self.directory, name))

    def on_train_end(self, logs=None):
        shutil.rmtree(self.directory, ignore_errors=True)
