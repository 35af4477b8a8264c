"""The record a trained model carries of what made it (README, "Provenance").

`run_record` is filled when `depnet train` writes `model.keras`, and stored in
the model (`DepressionRegressor.provenance`), so it travels with the file:

- `config_sha256`: the run's full config (as `config.yaml` holds it, without
  `train.out_dir`, which only says where it ran);
- `data`: the manifest's path and SHA-256 *at training time*, its videos and
  subjects per split, and the splits trained and validated on;
- `cache`: the feature cache's spec digest and the digest of the entries
  trained on (each entry's frames digest), when training ran on a cache;
- `backbone`: the architecture's backbone, where its weights came from
  (VGGFace2, ImageNet, a file, or RANDOM), and the digest of the weights
  trained with;
- `faces`: how the training videos' faces were made (`depnet faces` records:
  crop size and mode, detector size, sampling), which `predict` and `explain`
  repeat for a video file;
- `versions`: depnet_tf, TensorFlow, Keras, NumPy, Python.
"""

import hashlib
import logging
import os
import platform

from depnet_tf import files
from depnet_tf.digests import config_sha256, file_sha256, json_sha256
from depnet_tf.faces.extract import read_record as read_faces_record
from depnet_tf.models.random_backbone import describe_weights, is_random
from depnet_tf.models.regressor import weights_hash

log = logging.getLogger(__name__)
SCHEMA = 1


def faces_record(manifest, splits):
    """The `depnet faces` settings of the videos of `splits`: one dict, or None.

    None when no video has a record (OpenFace or other crops). Videos made
    with different settings are recorded as such, with the first settings.
    """
    found = []
    rows = manifest.table[manifest.table["split"].isin(splits)]
    for folder in rows["frames"]:
        folder = os.fspath(folder).rstrip("/")
        if not folder.endswith("_aligned"):
            continue
        parent, stem = os.path.split(folder[: -len("_aligned")])
        record = read_faces_record(parent, stem)
        if record and isinstance(record.get("settings"), dict):
            found.append(record["settings"])
    if not found:
        return None
    distinct = {json_sha256(s): s for s in found}
    settings = dict(found[0])
    if len(distinct) > 1:
        log.warning("the training videos' faces were made with %d sets of settings", len(distinct))
        settings["mixed"] = len(distinct)
    settings["videos_recorded"] = len(found)
    settings["videos"] = len(rows)
    return settings


def manifest_record(manifest, data):
    table = manifest.table
    path = manifest.source
    return {
        "manifest": files.absolute(path) if files.exists(path) else path,
        "manifest_sha256": file_sha256(path) if files.isfile(path) else None,
        "videos_per_split": {k: int(v) for k, v in table["split"].value_counts().items()},
        "subjects_per_split": {
            k: int(v) for k, v in table.groupby("split")["subject"].nunique().items()
        },
        "train_split": data["train_split"],
        "val_split": data["val_split"] or None,
    }


def cache_record(cache_dir, manifest, splits):
    """The cache's spec digest and the digest of the entries of `splits` (their frames)."""
    from depnet_tf.data.cache_entries import EntryIndex, entry_path, read_meta

    meta = read_meta(cache_dir)
    names = sorted(manifest.table.loc[manifest.table["split"].isin(splits), "video_id"])
    digest = hashlib.sha256()
    for name in names:
        index = EntryIndex(entry_path(cache_dir, name), meta["feature_shape"][-1])
        digest.update(f"{name}:{index.source}:{index.count}\n".encode())
    return {
        "path": files.absolute(cache_dir),
        "feature_spec_sha256": json_sha256(meta),
        "entries_sha256": digest.hexdigest(),
        "entries": len(names),
    }


def backbone_record(model, weights):
    random = is_random(weights)
    return {
        "network": model.architecture.backbone.name,
        "source": "RANDOM" if random else str(weights),
        "random": random,
        "description": describe_weights(weights),
        "weights_sha256": weights_hash(model.backbone),
    }


def versions():
    import keras
    import numpy as np
    import tensorflow as tf

    import depnet_tf

    return {
        "depnet_tf": depnet_tf.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def run_record(config, model, manifest):
    """What made the weights `depnet train` is about to write (see the module notes)."""
    data = config["data"]
    splits = [s for s in (data["train_split"], data["val_split"]) if s]
    on_cache = bool(data["cache"]) and not config["train"]["end_to_end"]
    return {
        "schema": SCHEMA,
        "made_by": "depnet train",
        "arch": config["arch"],
        "config_sha256": config_sha256(config),
        "seed": data["seed"],
        "deterministic": config["train"]["deterministic"],
        "data": manifest_record(manifest, data),
        "cache": cache_record(data["cache"], manifest, splits) if on_cache else None,
        "backbone": backbone_record(model, config["model"]["backbone_weights"]),
        "faces": faces_record(manifest, splits),
        "versions": versions(),
    }
