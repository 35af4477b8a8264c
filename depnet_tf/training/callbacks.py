"""Callbacks of the training workflow: epoch-synced sampling, per-video validation, NaN stop."""

import json
import math
import os
import shutil

import keras
import numpy as np

from depnet_tf.evaluation.per_video import evaluate_clips
from depnet_tf.files import atomic_path, write_large


def weight_bytes(variables):
    """About how many bytes an HDF5 file of `variables` takes."""
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)


class SyncEpochClock(keras.callbacks.Callback):
    """Tell the training dataset which epoch `fit` is in (see `sampling.EpochClock`)."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def on_epoch_begin(self, epoch, logs=None):
        self.clock.epoch = epoch


class PerVideoValidation(keras.callbacks.Callback):
    """RMSE/MAE over videos (mean of clip predictions) every `every` epochs.

    Adds `val_rmse`, `val_mae` (per video, the paper's metric) and `val_clip_rmse`,
    `val_clip_mae` to the epoch logs, for checkpoints, CSV and TensorBoard.
    """

    def __init__(self, dataset, every=1):
        super().__init__()
        self.dataset = dataset
        self.every = max(int(every), 1)
        self.table = None

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == self.params.get("epochs") or self.model.stop_training
        if logs is None or not ((epoch + 1) % self.every == 0 or last):
            return
        self.table, summary = evaluate_clips(self.model, self.dataset)
        for key in ("rmse", "mae", "clip_rmse", "clip_mae"):
            logs[f"val_{key}"] = summary[key]


class StopOnNaN(keras.callbacks.Callback):
    """Stop at the first non-finite loss and remember the iteration."""

    def __init__(self):
        super().__init__()
        self.iteration = 0
        self.nan_iteration = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.nan_iteration = self.iteration
            self.model.stop_training = True
        self.iteration += 1


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


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """`keras.callbacks.ModelCheckpoint` (weights only) that writes atomically.

    Keras writes the HDF5 file in place, so a kill or a full disk mid-write
    leaves a truncated checkpoint under the final name (and h5py may crash the
    process when the disk fills). Here free space is checked first and the
    file is written under a temporary name, then renamed.
    """

    def __init__(self, filepath, **kwargs):
        super().__init__(filepath, save_weights_only=True, **kwargs)

    def _save_model(self, epoch, batch, logs):
        path = self._get_file_path(epoch, batch, logs)
        if self._should_save_model(epoch, batch, logs, path):
            write_large(path, self.model.save_weights, weight_bytes(self.model.weights), path)


class ResumableState(keras.callbacks.Callback):
    """Backs up what `keras.callbacks.BackupAndRestore` does not, so resumes are exact.

    `BackupAndRestore` restores the weights, the optimizer and the epoch, but not
    the random-number state of layers such as `Dropout`, nor an
    `IterationEarlyStopping`'s progress and best weights. `save(n)` writes them
    after n finished epochs to `directory/state-<n>.json` (and the best weights
    to `best_weights-<iteration>.npz`); `backup` calls it just before it writes
    its own backup of epoch n. A kill between the two leaves the backup of
    epoch n - 1, whose state file is still there: the two newest generations
    are kept. At the start of training the state of the restored backup's
    epoch is loaded; a finished run removes the folder. Put this callback after
    the backup and the early stopping, so that it restores after both.
    """

    def __init__(self, directory, backup, early_stopping=None):
        super().__init__()
        self.directory = directory
        self.early_stopping = early_stopping
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
        state = {"epochs": epochs, "seed_states": [v.numpy().tolist() for v in self._seed_states()]}
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
                keep.add(f"best_weights-{stopping.get('best_iteration')}.npz")
        for name in os.listdir(self.directory):
            if name.startswith("best_weights-") and name not in keep:
                os.remove(os.path.join(self.directory, name))

    def on_train_end(self, logs=None):
        shutil.rmtree(self.directory, ignore_errors=True)
