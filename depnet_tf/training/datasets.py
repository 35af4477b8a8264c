"""The datasets of a training run: the manifest checked, frames or the cache, sharded per worker."""

import functools
import logging

import pandas as pd

from depnet_tf.data import Manifest, cache_spec, clip_dataset, feature_dataset
from depnet_tf.errors import TrainingError

log = logging.getLogger(__name__)


def training_datasets(config, model, manifest, clock, shard):
    """(training, validation) datasets: frames with `train.end_to_end`, else the cache.

    Sequence models take T-frame clips; single-image models take single face
    frames (paper, section 5.3.1), K per video.
    """
    data, train = config["data"], config["train"]
    common = {
        "num_frames": model.config.num_frames,
        "batch_size": data["batch_size"],
        "single_frame": not model.architecture.is_sequence,
    }
    videos = manifest
    if shard is not None:
        videos = shard_manifest(manifest, data["train_split"], *shard)
    if train["end_to_end"]:
        build, source = clip_dataset, {"image_size": model.config.image_size}
    else:
        check_cache_training(data, model)
        build = functools.partial(feature_dataset, data["cache"])
        source = {"spec": cache_spec(model)}
    training = build(
        videos,
        data["train_split"],
        clips_per_video=data["clips_per_video"],
        training=True,
        seed=data["seed"],
        epoch_clock=clock,
        **source,
        **common,
    )
    validation = data["val_split"] and build(
        manifest,
        data["val_split"],
        clips_per_video=data["eval_clips_per_video"],
        with_ids=True,
        **source,
        **common,
    )
    return training, validation


def check_cache_training(data, model):
    """Refuse settings under which cached features cannot stand for the backbone's."""
    if not data["cache"]:
        raise TrainingError(
            "data.cache is not set: build a cache with `depnet cache`, "
            "or train on frames (train.end_to_end: true)"
        )
    if not model.config.freeze_backbone:
        raise TrainingError(
            "model.freeze_backbone is false, so the backbone trains and cached features "
            "would go stale: train on frames (train.end_to_end: true)"
        )
    if model.config.backbone_weights is None:
        raise TrainingError(
            "training on the cache needs fixed backbone weights: set "
            "model.backbone_weights ('vggface2' or a file); a random backbone "
            "differs at every build, so no cache can match it"
        )


def shard_manifest(manifest, split, index, count):
    """Worker `index` of `count` keeps every count-th training video.

    Every worker gets the same number of videos (the last ones wrap around to
    the start), so all take the same number of steps, as synchronous training
    requires. The other splits are kept whole.
    """
    rows = manifest.split(split)
    if len(rows) < count:
        raise TrainingError(f"{len(rows)} training videos cannot be sharded over {count} workers")
    per_worker = -(-len(rows) // count)
    picks = [(index + count * i) % len(rows) for i in range(per_worker)]
    others = manifest.table[manifest.table["split"] != split]
    table = pd.concat([rows.iloc[picks], others], ignore_index=True)
    return Manifest(
        table, source=f"{manifest.source} (worker {index} of {count})", check_frames=False
    )


def read_manifest(data):
    """The run's manifest, with its splits and subjects checked (no subject in two splits)."""
    if not data["manifest"]:
        raise TrainingError("data.manifest is not set in the config")
    manifest = Manifest.read(data["manifest"])
    manifest.split(data["train_split"])  # an empty split is an error that names the splits
    if data["val_split"]:
        manifest.split(data["val_split"])
    overlap = manifest.check_subjects(allow_overlap=data["allow_subject_overlap"])
    if overlap:
        log.warning(
            "data.allow_subject_overlap is set: %d subjects have videos in more than "
            "one split (first: %s); test scores are not subject-independent",
            len(overlap),
            next(iter(overlap.items())),
        )
    return manifest, overlap
