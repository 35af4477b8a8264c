"""`clip_dataset`: a `tf.data` pipeline of T-frame face clips from a manifest (paper, 5.2.1)."""

import numpy as np
import tensorflow as tf

from depnet_tf.constants import IMAGE_SIZE, NUM_FRAMES
from depnet_tf.data import pipeline, sampling
from depnet_tf.data.frames import load_frame
from depnet_tf.faces.openface import MIN_CONFIDENCE


def clip_dataset(
    manifest,
    split,
    num_frames=NUM_FRAMES,
    clips_per_video=1,
    training=False,
    seed=0,
    image_size=IMAGE_SIZE,
    batch_size=8,
    with_ids=False,
    min_confidence=MIN_CONFIDENCE,
    epoch_clock=None,
    single_frame=False,
    with_frames=False,
):
    """A dataset of `(frames, label)` clips of the videos of one split.

    Args:
        manifest: a `Manifest`.
        split: the split's name, e.g. "train".
        num_frames: T, frames per clip.
        clips_per_video: K clips of each video per pass.
        training: fresh random frames (sorted in time) every epoch, in a
            shuffled order; else K deterministic evenly spread clips per video.
        seed: int, makes training passes reproducible.
        image_size: S, frames are resized to S x S.
        batch_size: clips per batch.
        with_ids: add the video id (a string) as a third element.
        min_confidence: OpenFace CSV confidence below which frames are unused.
        epoch_clock: a `sampling.EpochClock` naming the epoch of each training
            pass (default: passes counted from 0).
        single_frame: samples are single frames (S, S, 3), for the single-image
            models: K frames per video, random in training, evenly spread else.
            `num_frames` is then ignored.
        with_frames: with `with_ids`, add each sample's frame numbers (B, T) int32.

    Returns:
        A `tf.data.Dataset` of `(frames (B, T, S, S, 3) float32 RGB 0-255, label
        (B, 1) float32)` (plus `video_id (B,)` with `with_ids`, and the frame
        numbers with `with_frames`).
    """
    num_frames = 1 if single_frame else num_frames
    rows = manifest.split(split)
    names = rows["video_id"].tolist()
    listed = [manifest.frames(name, min_confidence) for name in names]
    paths = [[p for _, p in frames] for frames in listed]
    numbers = [np.array([n for n, _ in frames], np.int32) for frames in listed]
    counts = [len(p) for p in paths]
    sampling.check_counts(names, counts, manifest.source)
    sampling.warn_short_videos(names, counts, num_frames)
    labels = rows["label"].to_numpy(np.float32)
    clock = epoch_clock or sampling.EpochClock()

    def generate():
        rng = np.random.default_rng([seed, clock.take()]) if training else None
        for video, positions in sampling.clip_plan(
            counts, num_frames, clips_per_video, training, rng
        ):
            clip = [paths[video][i] for i in positions]
            yield clip, labels[video : video + 1], names[video], numbers[video][positions]

    signature = (
        tf.TensorSpec((num_frames,), tf.string),
        tf.TensorSpec((1,), tf.float32),
        tf.TensorSpec((), tf.string),
        tf.TensorSpec((num_frames,), tf.int32),
    )
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(names) * clips_per_video))

    def load(clip_paths, label, video_id, frame_numbers):
        frames = tf.map_fn(
            lambda p: load_frame(p, image_size),
            clip_paths,
            fn_output_signature=tf.TensorSpec((image_size, image_size, 3), tf.float32),
        )
        return pipeline.sample(
            frames, label, video_id, frame_numbers, single_frame, with_ids, with_frames
        )

    dataset = dataset.map(load, num_parallel_calls=pipeline.parallel_calls(), deterministic=True)
    return pipeline.finish(dataset, batch_size)
