"""The frozen-backbone feature cache and `feature_dataset` (paper, sections 4.1 and 5.2.1).

The backbone is frozen and the channel max-pool has no weights, so the pooled
LLF of a frame (7x7x256 = 12,544 values at 224 px) never changes while the FAM
and head train. It is computed once per frame and stored as float16, one entry
per video (the format: `depnet_tf.data.cache_entries`). `feature_dataset`
streams the rows each clip needs, so a cache far larger than memory trains.
"""

import logging
import os

import numpy as np
import tensorflow as tf

from depnet_tf import files
from depnet_tf.data import pipeline, sampling
from depnet_tf.data.cache_entries import (
    EntryIndex,
    InMemoryEntries,
    StreamingEntries,
    check_cache,
    entry_path,
    index_entries,
    read_entry,
    read_meta,
    stale_entry_problem,
    write_entry,
    write_meta,
)
from depnet_tf.data.frames import (
    first_unreadable,
    frame_error,
    frames_source,
    load_frame,
    op_error_reason,
)
from depnet_tf.errors import DataError
from depnet_tf.faces.openface import MIN_CONFIDENCE
from depnet_tf.sharding import shard_of

log = logging.getLogger(__name__)


def cache_spec(model):
    """What the cached features of `model` depend on (`model.feature_spec()`)."""
    return model.feature_spec()


def _entry_is_current(path, dim, source):
    """Whether a finished entry computed from frames `source` is there.

    A damaged entry, or one computed from other frames, is removed and logged.
    Entries were read back before they were renamed into place (`write_entry`),
    so resuming checks only their structure (`EntryIndex`: the zip directory,
    the header, the sizes, which a truncation breaks), a few small reads per
    video instead of all its features; `verify_cache` reads them whole.
    """
    if not files.isfile(path):
        return False
    try:
        problem = stale_entry_problem(EntryIndex(path, dim), source)
    except DataError as error:
        problem = str(error)
    if problem is None:
        return True
    log.warning("re-caching %s", problem)
    files.remove(path)
    return False


def build_cache(
    model,
    manifest,
    cache_dir,
    batch_size=32,
    splits=None,
    progress=True,
    min_confidence=MIN_CONFIDENCE,
    shard=None,
):
    """Encode every usable frame of the manifest's videos once; resumable.

    Videos already cached are skipped; a video without usable frames is
    reported and skipped. Files are written atomically. With `shard` (I, N)
    only shard I of N of the videos is encoded (`depnet_tf.sharding`); shards
    write side by side into one cache folder.

    Returns:
        (cached video ids, [(video id, message)] failures)
    """
    from tqdm.auto import tqdm

    spec = model.feature_spec()
    cache_dir = os.fspath(cache_dir)
    files.makedirs(cache_dir)
    files.remove_stale_temporaries(cache_dir)
    if files.exists(os.path.join(cache_dir, "meta.json")):
        check_cache(cache_dir, spec)
    else:
        write_meta(cache_dir, spec)
    dim = spec["feature_shape"][-1]
    encoder = model.feature_extractor()
    encode = tf.function(lambda x: encoder(x, training=False), reduce_retracing=True)
    size = model.config.image_size
    rows = (
        manifest.table if splits is None else manifest.table[manifest.table["split"].isin(splits)]
    )
    done, failures = [], []
    videos = shard_of(rows["video_id"], shard)
    for video_id in tqdm(videos, desc="cache", unit="video", disable=None if progress else True):
        target = entry_path(cache_dir, video_id)
        try:
            frames = manifest.frames(video_id, min_confidence)
        except DataError as error:
            failures.append((video_id, str(error)))
            continue
        if not frames:
            failures.append((video_id, f"{video_id}: no usable face frames"))
            continue
        source = frames_source(frames)
        if _entry_is_current(target, dim, source):
            done.append(video_id)
            continue
        paths = [p for _, p in frames]
        images = tf.data.Dataset.from_tensor_slices(paths)
        images = images.map(
            lambda p: load_frame(p, size), num_parallel_calls=pipeline.parallel_calls()
        )
        try:
            features = np.concatenate(
                [
                    encode(batch).numpy().astype(np.float16)
                    for batch in pipeline.finish(images, batch_size)
                ]
            )
        except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as error:
            problem = frame_error(error) or first_unreadable(paths, size) or op_error_reason(error)
            failures.append((video_id, f"{video_id}: {problem}"))
            continue
        write_entry(target, features, [n for n, _ in frames], source)
        done.append(video_id)
    return done, failures


def check_sources(manifest, names, indexes, min_confidence=MIN_CONFIDENCE):
    """Refuse cache entries computed from other frames than the manifest's videos have now.

    Training and `evaluate --cache` would otherwise score old frames while
    `evaluate` on frames and `predict` read the new ones.
    """
    for name, index in zip(names, indexes):
        problem = stale_entry_problem(index, frames_source(manifest.frames(name, min_confidence)))
        if problem is not None:
            raise DataError(f"{problem}; run `depnet cache` again to recompute video {name!r}")


def verify_cache(cache_dir, manifest, spec=None):
    """Every manifest video's cache entry, checked: [(video_id, problem)] of those not complete.

    The metadata must be readable (and match `spec` when given); each entry
    must exist and read back whole (CRC-32 and shapes, see `read_entry`).
    """
    meta = check_cache(cache_dir, spec) if spec is not None else read_meta(cache_dir)
    dim = meta["feature_shape"][-1]
    problems = []
    for video_id in manifest.table["video_id"]:
        path = entry_path(cache_dir, video_id)
        if not files.isfile(path):
            problems.append((video_id, f"{path}: missing (run `depnet cache`)"))
            continue
        try:
            read_entry(path, dim)
            problem = stale_entry_problem(
                EntryIndex(path, dim), frames_source(manifest.frames(video_id))
            )
        except DataError as error:
            problem = str(error)
        if problem is not None:
            problems.append((video_id, problem))
    return problems


def feature_dataset(
    cache_dir,
    manifest,
    split,
    num_frames,
    clips_per_video=1,
    training=False,
    seed=0,
    batch_size=8,
    with_ids=False,
    spec=None,
    epoch_clock=None,
    single_frame=False,
    with_frames=False,
    in_memory=False,
):
    """Like `clip_dataset`, but of cached per-frame features: `(B, T, N)` float32 and labels.

    Args:
        cache_dir: a folder (or `tf.io.gfile` URL) written by `build_cache`.
        spec: if given (`cache_spec(model)`), the cache must have been built with it.
        single_frame: samples are one frame's features `(N,)` (single-image models).
        in_memory: read every entry whole into memory first. By default the rows
            each clip needs are read as it is drawn, so memory holds only the
            frame numbers and offsets of the videos; the clips are the same.

    The other arguments are as for `clip_dataset`.
    """
    num_frames = 1 if single_frame else num_frames
    cache_dir = os.fspath(cache_dir)
    meta = check_cache(cache_dir, spec) if spec is not None else read_meta(cache_dir)
    rows = manifest.split(split)
    names = rows["video_id"].tolist()
    dim = meta["feature_shape"][-1]
    indexes = index_entries(cache_dir, names, dim)
    check_sources(manifest, names, indexes)
    entries = InMemoryEntries(cache_dir, names, dim) if in_memory else StreamingEntries(indexes)
    numbers, counts = entries.numbers, entries.counts
    sampling.check_counts(names, counts, cache_dir)
    sampling.warn_short_videos(names, counts, num_frames)
    labels = rows["label"].to_numpy(np.float32)
    clock = epoch_clock or sampling.EpochClock()

    def generate():
        rng = np.random.default_rng([seed, clock.take()]) if training else None
        plan = sampling.clip_plan(counts, num_frames, clips_per_video, training, rng)
        reader = entries.open()
        try:
            for video, positions in plan:
                clip = reader.rows(video, positions).astype(np.float32)
                label = labels[video : video + 1]
                frame_numbers = numbers[video][positions]
                yield pipeline.sample(
                    clip, label, names[video], frame_numbers, single_frame, with_ids, with_frames
                )
        finally:
            reader.close()

    shape = (dim,) if single_frame else (num_frames, dim)
    signature = (tf.TensorSpec(shape, tf.float32), tf.TensorSpec((1,), tf.float32))
    if with_ids:
        signature += (tf.TensorSpec((), tf.string),)
        if with_frames:
            signature += (tf.TensorSpec((num_frames,), tf.int32),)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(names) * clips_per_video))
    return pipeline.finish(dataset, batch_size)
