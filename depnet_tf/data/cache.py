"""The frozen-backbone feature cache and `feature_dataset` (paper, sections 4.1 and 5.2.1).

The backbone is frozen and the channel max-pool has no weights, so the pooled
LLF of a frame (7x7x256 = 12,544 values at 224 px) never changes while the FAM
and head train. It is computed once per frame and stored as float16:

- `<cache>/meta.json`: what the features depend on (backbone weights hash, stem,
  image size, channel pool, preprocessing); a cache built otherwise is refused;
- `<cache>/<video_id>.npz`: `features` (n, N) float16 and `frames` (n,) numbers.
"""

import hashlib
import json
import os

import numpy as np
import tensorflow as tf

from depnet_tf.atomic import atomic_path
from depnet_tf.data import openface, pipeline, sampling
from depnet_tf.data.clips import first_unreadable, frame_error, load_frame, op_error_reason
from depnet_tf.data.errors import DataError

CACHE_VERSION = 1


def weights_hash(layer):
    """sha256 of a layer's weights (names, shapes and bytes), short hex."""
    digest = hashlib.sha256()
    for weight in layer.weights:
        value = np.ascontiguousarray(weight.numpy())
        digest.update(f"{weight.path}:{value.shape}:{value.dtype}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()[:16]


def cache_spec(model):
    """What the cached features of `model` (a `DepressionRegressor`) depend on."""
    config = model.config
    return {
        "version": CACHE_VERSION,
        "arch": model.arch,
        "backbone": model.backbone.name,
        "backbone_weights_sha256": weights_hash(model.backbone),
        "stem": config.stem if model.arch in ("depnet", "senet-single") else None,
        "image_size": config.image_size,
        "channel_pool": config.channel_pool,
        "preprocessing": {"order": "BGR", "mean": list(model.get_layer("preprocess").mean)},
        "feature_shape": list(model.head_input_shape[-1:]),
        "dtype": "float16",
    }


def frame_encoder(model):
    """A per-frame model from RGB 0-255 (S, S, 3) to the head's per-frame input (N,)."""
    import keras

    size = model.config.image_size
    frames = keras.Input((size, size, 3), name="frame")
    x = model.get_layer("preprocess")(frames)
    x = model.backbone(x, training=False)
    if "channel_max_pool" in [layer.name for layer in model.layers]:
        x = model.get_layer("channel_max_pool")(x)
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = model.get_layer("gap")(x)
    return keras.Model(frames, x, name="frame_encoder")


def read_meta(cache_dir):
    path = os.path.join(cache_dir, "meta.json")
    if not os.path.isfile(path):
        raise DataError(f"{cache_dir}: no feature cache here (missing meta.json); run `depnet cache`")
    with open(path) as file:
        return json.load(file)


def check_cache(cache_dir, spec):
    """Refuse a cache whose features were computed with other settings."""
    meta = read_meta(cache_dir)
    differing = sorted(k for k in set(meta) | set(spec) if meta.get(k) != spec.get(k))
    if differing:
        details = ", ".join(f"{k}: cache {meta.get(k)!r} vs model {spec.get(k)!r}" for k in differing)
        raise DataError(f"{cache_dir}: the cache was built with other settings ({details}); "
                        "rebuild it with `depnet cache` or use the matching model")
    return meta


def build_cache(model, manifest, cache_dir, batch_size=32, splits=None, progress=True,
                min_confidence=openface.MIN_CONFIDENCE):
    """Encode every usable frame of the manifest's videos once; resumable.

    Videos already cached are skipped; a video without usable frames is
    reported and skipped. Files are written atomically.

    Returns:
        (cached video ids, [(video id, message)] failures)
    """
    from tqdm.auto import tqdm

    spec = cache_spec(model)
    os.makedirs(cache_dir, exist_ok=True)
    if os.path.exists(os.path.join(cache_dir, "meta.json")):
        check_cache(cache_dir, spec)
    else:
        with atomic_path(os.path.join(cache_dir, "meta.json")) as temporary:
            with open(temporary, "w") as file:
                json.dump(spec, file, indent=2)
    encoder = frame_encoder(model)
    encode = tf.function(lambda x: encoder(x, training=False), reduce_retracing=True)
    size = model.config.image_size
    rows = manifest.table if splits is None else manifest.table[manifest.table["split"].isin(splits)]
    done, failures = [], []
    for video_id in tqdm(rows["video_id"], desc="cache", unit="video", disable=not progress):
        target = os.path.join(cache_dir, f"{video_id}.npz")
        if os.path.isfile(target):
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
        images = images.map(lambda p: load_frame(p, size), num_parallel_calls=pipeline.parallel_calls())
        try:
            features = np.concatenate(
                [encode(batch).numpy().astype(np.float16) for batch in pipeline.finish(images, batch_size)]
            )
        except tf.errors.InvalidArgumentError as error:
            problem = frame_error(error) or first_unreadable(paths, size) or op_error_reason(error)
            failures.append((video_id, f"{video_id}: {problem}"))
            continue
        with atomic_path(target) as temporary:
            with open(temporary, "wb") as file:
                np.savez(file, features=features, frames=np.array([n for n, _ in frames]))
        done.append(video_id)
    return done, failures


def load_features(cache_dir, video_id):
    path = os.path.join(cache_dir, f"{video_id}.npz")
    if not os.path.isfile(path):
        raise DataError(f"{cache_dir}: video {video_id!r} is not cached; run `depnet cache`")
    with np.load(path) as data:
        return data["features"]


def feature_dataset(cache_dir, manifest, split, num_frames, clips_per_video=1, training=False,
                    seed=0, batch_size=8, with_ids=False, spec=None, epoch_clock=None):
    """Like `clip_dataset`, but of cached per-frame features: `(B, T, N)` float32 and labels.

    Args:
        cache_dir: a folder written by `build_cache`.
        spec: if given (`cache_spec(model)`), the cache must have been built with it.
        Others: as for `clip_dataset`.
    """
    meta = check_cache(cache_dir, spec) if spec is not None else read_meta(cache_dir)
    rows = manifest.split(split)
    names = rows["video_id"].tolist()
    features = [load_features(cache_dir, name) for name in names]
    counts = [len(f) for f in features]
    sampling.check_counts(names, counts, cache_dir)
    sampling.warn_short_videos(names, counts, num_frames)
    labels = rows["label"].to_numpy(np.float32)
    dim = meta["feature_shape"][-1]
    clock = epoch_clock or sampling.EpochClock()

    def generate():
        rng = np.random.default_rng([seed, clock.take()]) if training else None
        for video, positions in sampling.clip_plan(counts, num_frames, clips_per_video, training, rng):
            clip = features[video][positions].astype(np.float32)
            label = labels[video : video + 1]
            yield (clip, label, names[video]) if with_ids else (clip, label)

    signature = (tf.TensorSpec((num_frames, dim), tf.float32), tf.TensorSpec((1,), tf.float32))
    if with_ids:
        signature += (tf.TensorSpec((), tf.string),)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(names) * clips_per_video))
    return pipeline.finish(dataset, batch_size)
