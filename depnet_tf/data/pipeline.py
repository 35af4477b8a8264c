"""tf.data settings shared by the clip, feature and cache pipelines."""

import os

import tensorflow as tf

PREFETCH_BATCHES = 2


def parallel_calls():
    """Parallel map calls: one per CPU core this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def without_autotuning(dataset):
    """`dataset` with tf.data's autotuning switched off.

    Our pipelines feed models whose step keeps every core busy for seconds.
    With autotuning on (TensorFlow 2.21, 2 cores), deleting an exhausted
    iterator then stalled for 7-10 s about every second time: once per epoch
    under `model.fit`, once per video while building the cache. With fixed
    parallelism (`parallel_calls()`) and fixed prefetch buffers
    (`PREFETCH_BATCHES`) the deletion takes milliseconds. Measured by
    `benchmarks/bench_iterator_teardown.py`.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def finish(dataset, batch_size):
    """Batch, prefetch and fix the tuning: the tail every pipeline shares."""
    return without_autotuning(dataset.batch(batch_size).prefetch(PREFETCH_BATCHES))


def sample(inputs, label, video_id, frame_numbers, single_frame, with_ids, with_frames):
    """One dataset element: `(inputs, label)`, plus the id and frame numbers when asked.

    Single-frame samples lose their time axis of length 1.
    """
    if single_frame:
        inputs = inputs[0]
    if not with_ids:
        return inputs, label
    if not with_frames:
        return inputs, label, video_id
    return inputs, label, video_id, frame_numbers
