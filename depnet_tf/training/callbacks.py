"""Callbacks of the training workflow: epoch-synced sampling, per-video validation, NaN stop,
atomic checkpoints. What makes a killed run resume exactly is in `resume`."""

import math

import keras
import numpy as np

from depnet_tf.evaluation.per_video import evaluate_clips
from depnet_tf.files import write_large


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
