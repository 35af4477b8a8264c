"""Which T frames make a clip: random per epoch for training, evenly spread for evaluation.

The paper samples T = 5 frames at random from each video (section 5.2.1). The
functions here are pure (NumPy in, indices out) and shared by the frame and the
feature-cache pipelines, so both sample the same way.
"""

import itertools
import warnings

import numpy as np


class EpochClock:
    """The epoch a training dataset draws its clips for.

    Each pass over a training dataset asks `take()` for its epoch, which seeds
    the clip sampler with (seed, epoch). By default passes count 0, 1, 2, ...;
    `depnet_tf.training.SyncEpochClock` sets it from `fit`'s own epoch instead,
    so a run resumed at epoch 7 draws epoch 7's clips, as an unbroken run would.
    """

    def __init__(self):
        self.epoch = None
        self._passes = itertools.count()

    def take(self):
        return self.epoch if self.epoch is not None else next(self._passes)


def train_clip(num_available, num_frames, rng):
    """T random frame positions in time order; with replacement only if fewer than T exist."""
    replace = num_available < num_frames
    return np.sort(rng.choice(num_available, size=num_frames, replace=replace))


def eval_clips(num_available, num_frames, clips_per_video):
    """K deterministic clips whose T frames each span the whole video, staggered by 1/K.

    Clip k takes the frames at (j + (k + 0.5) / K) * n / T for j = 0..T-1, so the
    clips together cover the video evenly and each looks like a training clip.
    """
    positions = (
        (
            np.arange(num_frames)[None, :]
            + (np.arange(clips_per_video)[:, None] + 0.5) / clips_per_video
        )
        * num_available
        / num_frames
    )
    return np.minimum(np.floor(positions).astype(int), num_available - 1)


def clip_plan(counts, num_frames, clips_per_video, training, rng=None):
    """[(video position, frame positions)] for one pass over the videos.

    Args:
        counts: number of usable frames of each video.
        training: random clips in a random order (needs `rng`), else `eval_clips`
            in video order.
    """
    plan = []
    for video, count in enumerate(counts):
        if training:
            plan += [(video, train_clip(count, num_frames, rng)) for _ in range(clips_per_video)]
        else:
            plan += [(video, clip) for clip in eval_clips(count, num_frames, clips_per_video)]
    if training:
        order = rng.permutation(len(plan))
        plan = [plan[i] for i in order]
    return plan


def warn_short_videos(names, counts, num_frames):
    """Warn once about videos with fewer than T usable frames (sampled with replacement)."""
    short = [f"{name} ({count})" for name, count in zip(names, counts) if count < num_frames]
    if short:
        warnings.warn(
            f"{len(short)} videos have fewer than {num_frames} usable frames and are sampled "
            f"with replacement: {', '.join(short[:5])}{' ...' if len(short) > 5 else ''}",
            stacklevel=3,
        )


def check_counts(names, counts, source):
    from depnet_tf.errors import DataError

    empty = [name for name, count in zip(names, counts) if count == 0]
    if empty:
        raise DataError(f"{source}: videos without usable frames: {empty[:5]}")
