"""A tiny labelled data set on disk (frame folders + manifest + cache) for training tests."""

import os

import cv2
import keras
import numpy as np
import pandas as pd
import yaml

from depnet_tf import DepNetConfig, build_model
from depnet_tf.data import Manifest, build_cache

MODEL = {"num_frames": 3, "image_size": 32, "branch_filters": 2, "hlf_channels": 4, "fc_units": 8}


def write_frames(root, videos=6, frames=8, size=32, seed=0):
    """Frame folders whose brightness follows the label, and a manifest over them."""
    rng = np.random.default_rng(seed)
    records = []
    for index in range(videos):
        label = float(5 + 50 * index / max(videos - 1, 1))
        folder = os.path.join(root, f"v{index}_aligned")
        os.makedirs(folder, exist_ok=True)
        for frame in range(1, frames + 1):
            image = rng.normal(60 + 2.5 * label, 20, (size, size, 3)).clip(0, 255).astype(np.uint8)
            cv2.imwrite(os.path.join(folder, f"frame_det_00_{frame:06d}.png"), image)
        split = "dev" if index % 3 == 2 else "train"
        records.append(
            {
                "video_id": f"v{index}",
                "frames": folder,
                "label": label,
                "split": split,
                "subject": f"s{index}",
            }
        )
    path = os.path.join(root, "manifest.csv")
    pd.DataFrame(records).to_csv(path, index=False)
    return path


def make_workspace(root, **train):
    """Manifest, cache and a config file; returns the config path."""
    manifest = write_frames(root)
    keras.utils.set_random_seed(0)
    backbone = os.path.join(root, "backbone.weights.h5")
    build_model("depnet", DepNetConfig(**MODEL)).backbone.save_weights(backbone)
    model_settings = {**MODEL, "backbone_weights": backbone}
    model = build_model("depnet", DepNetConfig(**model_settings))
    cache = os.path.join(root, "cache")
    build_cache(model, Manifest.read(manifest), cache, progress=False)
    config = {
        "model": model_settings,
        "data": {
            "manifest": manifest,
            "cache": cache,
            "clips_per_video": 4,
            "eval_clips_per_video": 2,
            "batch_size": 4,
            "seed": 1,
        },
        "train": {"base_lr": 1e-4, "max_epochs": 3, "out_dir": os.path.join(root, "run"), **train},
    }
    path = os.path.join(root, "config.yaml")
    with open(path, "w") as file:
        yaml.safe_dump(config, file)
    return path


class Killed(BaseException):
    """A kill, raised where a test puts it (not an `Exception`: nothing may catch it)."""


def kill_at_backup(monkeypatch, number, after=False):
    """Raise `Killed` at the `number`-th backup of a run: before it is written, or just after.

    Its resumable state is written just before (`depnet_tf.training.resume`).
    """
    from depnet_tf.training import resume

    write_large = resume.write_large
    backups = []

    def write_or_die(path, write, size, what):
        if what != "the backup":
            return write_large(path, write, size, what)
        backups.append(path)
        if len(backups) == number and not after:
            raise Killed
        write_large(path, write, size, what)
        if len(backups) == number:
            raise Killed

    monkeypatch.setattr(resume, "write_large", write_or_die)
