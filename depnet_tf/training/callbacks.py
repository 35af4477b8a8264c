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
    """

    EPOCH_ATTR = "depnet_backup_epoch"

    def _save_model(self):
        import h5py

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
    `IterationEarlyStopping`'s progress and best weights. This callback writes
    them at the end of every epoch to `directory` and restores them at the
    start of training; a finished run removes them. Put it after both.
    """

    def __init__(self, directory, early_stopping=None):
        super().__init__()
        self.directory = directory
        self.early_stopping = early_stopping
        self._saved_best = None

    def _seed_states(self):
        return [v for v in self.model.variables if "seed_generator_state" in v.path]

    def on_train_begin(self, logs=None):
        state_path = os.path.join(self.directory, "state.json")
        if not os.path.isfile(state_path):
            return
        with open(state_path) as file:
            state = json.load(file)
        for variable, value in zip(self._seed_states(), state["seed_states"]):
            variable.assign(np.asarray(value, dtype=variable.dtype))
        if self.early_stopping is not None and state.get("early_stopping"):
            best = None
            best_path = os.path.join(self.directory, "best_weights.npz")
            if os.path.isfile(best_path):
                with np.load(best_path) as data:
                    best = [data[f"w{i}"] for i in range(len(data.files))]
            self.early_stopping.set_state(state["early_stopping"], best)
            self._saved_best = state["early_stopping"]["best_iteration"]

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        state = {"epoch": epoch, "seed_states": [v.numpy().tolist() for v in self._seed_states()]}
        stopper = self.early_stopping
        if stopper is not None:
            state["early_stopping"] = stopper.get_state()
            if stopper.best_weights is not None and stopper.best_iteration != self._saved_best:
                with atomic_path(os.path.join(self.directory, "best_weights.npz")) as temporary:
                    with open(temporary, "wb") as file:
                        np.savez(file, **{f"w{i}": w for i, w in enumerate(stopper.best_weights)})
                self._saved_best = stopper.best_iteration
        with atomic_path(os.path.join(self.directory, "state.json")) as temporary:
            with open(temporary, "w") as file:
                json.dump(state, file)

    def on_train_end(self, logs=None):
        shutil.rmtree(self.directory, ignore_errors=True)
