"""The frozen-backbone feature cache and `feature_dataset` (paper, sections 4.1 and 5.2.1).

The backbone is frozen and the channel max-pool has no weights, so the pooled
LLF of a frame (7x7x256 = 12,544 values at 224 px) never changes while the FAM
and head train. It is computed once per frame and stored as float16:

- `<cache>/meta.json`: what the features depend on (backbone weights hash, stem,
  image size, channel pool, preprocessing); a cache built otherwise is refused;
- `<cache>/<video_id>.npz`: `features` (n, N) float16 and `frames` (n,) numbers.
"""

import json
import logging
import os
import zipfile

import numpy as np
import tensorflow as tf

from depnet_tf.data import pipeline, sampling
from depnet_tf.data.frames import first_unreadable, frame_error, load_frame, op_error_reason
from depnet_tf.errors import DataError
from depnet_tf.faces.openface import MIN_CONFIDENCE
from depnet_tf.files import atomic_path, remove_stale_temporaries
from depnet_tf.sharding import shard_of

log = logging.getLogger(__name__)


def cache_spec(model):
    """What the cached features of `model` depend on (`model.feature_spec()`)."""
    return model.feature_spec()


def read_meta(cache_dir):
    """The cache's `meta.json`; a missing or unreadable one is a `DataError` naming it."""
    path = os.path.join(cache_dir, "meta.json")
    if not os.path.isfile(path):
        raise DataError(
            f"{cache_dir}: no feature cache here (missing meta.json); run `depnet cache`"
        )
    try:
        with open(path) as file:
            meta = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(
            f"{path}: damaged cache metadata ({error}); delete the cache folder and "
            "run `depnet cache` again"
        ) from None
    if not isinstance(meta, dict) or "feature_shape" not in meta:
        raise DataError(f"{path}: not a feature cache's metadata (no feature_shape)")
    return meta


def check_cache(cache_dir, spec):
    """Refuse a cache whose features were computed with other settings."""
    meta = read_meta(cache_dir)
    differing = sorted(k for k in set(meta) | set(spec) if meta.get(k) != spec.get(k))
    if differing:
        details = ", ".join(
            f"{k}: cache {meta.get(k)!r} vs model {spec.get(k)!r}" for k in differing
        )
        raise DataError(
            f"{cache_dir}: the cache was built with other settings ({details}); "
            "rebuild it with `depnet cache` or use the matching model"
        )
    return meta


def entry_path(cache_dir, video_id):
    return os.path.join(cache_dir, f"{video_id}.npz")


def read_entry(path, dim=None, cache_dir=None, video_id=None):
    """(features (n, N) float16, frame numbers (n,)) of one cache entry, verified.

    The `.npz` is a zip whose members carry CRC-32 checksums, checked as they
    are read; the shapes must agree with each other and with `dim`.

    Raises:
        DataError: naming the file, when it is truncated, corrupt or inconsistent.
    """
    try:
        with np.load(path) as data:
            features, frames = data["features"], data["frames"]
    except FileNotFoundError:
        if cache_dir is not None:
            raise DataError(
                f"{cache_dir}: video {video_id!r} is not cached; run `depnet cache`"
            ) from None
        raise DataError(f"{path}: no such cache entry") from None
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as error:
        raise DataError(f"{path}: damaged cache entry ({error or type(error).__name__})") from None
    if (
        features.ndim != 2
        or features.dtype != np.float16
        or frames.shape != features.shape[:1]
        or (dim is not None and features.shape[1] != dim)
        or len(frames) == 0
    ):
        raise DataError(
            f"{path}: damaged cache entry (features {features.shape} "
            f"{features.dtype}, {frames.shape[0]} frame numbers)"
        )
    return features, frames


def write_entry(path, features, frames):
    """Write one entry atomically, after reading the temporary file back."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as file:
            np.savez(file, features=features, frames=np.asarray(frames))
        read_entry(temporary, features.shape[1])


def _entry_is_complete(path, dim):
    """Whether a finished entry is there; a damaged one is removed and logged."""
    if not os.path.isfile(path):
        return False
    try:
        read_entry(path, dim)
        return True
    except DataError as error:
        log.warning("re-caching %s", error)
        os.remove(path)
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
    os.makedirs(cache_dir, exist_ok=True)
    remove_stale_temporaries(cache_dir)
    if os.path.exists(os.path.join(cache_dir, "meta.json")):
        check_cache(cache_dir, spec)
    else:
        with atomic_path(os.path.join(cache_dir, "meta.json")) as temporary:
            with open(temporary, "w") as file:
                json.dump(spec, file, indent=2)
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
        if _entry_is_complete(target, dim):
            done.append(video_id)
            continue
        try:
            frames = manifest.frames(video_id, min_confidence)
        except DataError as error:
            failures.append((video_id, str(error)))
            continue
        if not frames:
            failures.append((video_id, f"{video_id}: no usable face frames"))
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
        write_entry(target, features, [n for n, _ in frames])
        done.append(video_id)
    return done, failures


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
        if not os.path.isfile(path):
            problems.append((video_id, f"{path}: missing (run `depnet cache`)"))
            continue
        try:
            read_entry(path, dim)
        except DataError as error:
            problems.append((video_id, str(error)))
    return problems


def load_features(cache_dir, video_id, dim=None):
    """The cached features (n, N) float16 of one video."""
    return read_entry(entry_path(cache_dir, video_id), dim, cache_dir, video_id)[0]


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
):
    """Like `clip_dataset`, but of cached per-frame features: `(B, T, N)` float32 and labels.

    Args:
        cache_dir: a folder written by `build_cache`.
        spec: if given (`cache_spec(model)`), the cache must have been built with it.
        single_frame: samples are one frame's features `(N,)` (single-image models).
        Others: as for `clip_dataset`.
    """
    num_frames = 1 if single_frame else num_frames
    meta = check_cache(cache_dir, spec) if spec is not None else read_meta(cache_dir)
    rows = manifest.split(split)
    names = rows["video_id"].tolist()
    dim = meta["feature_shape"][-1]
    entries = [read_entry(entry_path(cache_dir, name), dim, cache_dir, name) for name in names]
    features = [f for f, _ in entries]
    numbers = [n.astype(np.int32) for _, n in entries]
    counts = [len(f) for f in features]
    sampling.check_counts(names, counts, cache_dir)
    sampling.warn_short_videos(names, counts, num_frames)
    labels = rows["label"].to_numpy(np.float32)
    clock = epoch_clock or sampling.EpochClock()

    def generate():
        rng = np.random.default_rng([seed, clock.take()]) if training else None
        for video, positions in sampling.clip_plan(
            counts, num_frames, clips_per_video, training, rng
        ):
            clip = features[video][positions].astype(np.float32)
            label = labels[video : video + 1]
            frame_numbers = numbers[video][positions]
            yield pipeline.sample(
                clip, label, names[video], frame_numbers, single_frame, with_ids, with_frames
            )

    shape = (dim,) if single_frame else (num_frames, dim)
    signature = (tf.TensorSpec(shape, tf.float32), tf.TensorSpec((1,), tf.float32))
    if with_ids:
        signature += (tf.TensorSpec((), tf.string),)
        if with_frames:
            signature += (tf.TensorSpec((num_frames,), tf.int32),)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(names) * clips_per_video))
    return pipeline.finish(dataset, batch_size)
