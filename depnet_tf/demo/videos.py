"""Labelled face videos for the demo, written as real files with OpenCV.

The face is the portrait of astronaut Eileen Collins that scikit-image bundles
(`skimage.data.astronaut()`; NASA, public domain). A video's label (0-63) drives
what the face does over time, so that there is something to learn:

- the lower face droops in slow waves whose depth grows with the label;
- the face is dimmer and flatter in contrast the higher the label;
- every video also drifts, zooms and wobbles at random, independent of the label,
  so the face detector and the alignment have real work to do.

None of this has anything to do with depression: it is a stand-in signal.
"""

import os

import cv2
import numpy as np

from depnet_tf.constants import BDI_MAX

FRAME_SIZE = (320, 240)  # width, height
FPS = 12


# The face in `astronaut()` (512x512): MTCNN finds it at x 182-265, y 64-171,
# nose near (224, 126). The demo uses a 200x200 crop around it.
FACE_CROP = (slice(18, 218), slice(124, 324))  # rows, columns
NOSE_ROW = 126 - 18  # in the crop


def astronaut():
    """The face region of scikit-image's astronaut portrait (RGB uint8, 200x200)."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[FACE_CROP])


def _frame(photo, label, step, state):
    strength = label / BDI_MAX
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * step / 8 + state["phase"])
    face = photo.astype(np.float32)
    height, width = face.shape[:2]
    # Droop: pull the face below the nose downwards, in slow waves whose depth
    # grows with the label.
    rows = np.arange(height, dtype=np.float32)
    lower = np.clip((rows - NOSE_ROW) / (height - NOSE_ROW), 0, 1)
    shift = (lower * (strength * wave * 18.0)).astype(np.float32)
    map_y = np.repeat((rows - shift)[:, None], width, axis=1)
    map_x = np.repeat(np.arange(width, dtype=np.float32)[None, :], height, axis=0)
    face = cv2.remap(face, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    # Dim and flatten the higher the label.
    mean = float(face.mean())
    face = (face - mean) * (1 - 0.4 * strength) + mean * (1 - 0.35 * strength)
    # Drift, zoom and wobble at random, unrelated to the label.
    frame_w, frame_h = FRAME_SIZE
    scale = state["scale"] * (1 + 0.05 * np.sin(step / 3 + state["phase"]))
    angle = 6 * np.sin(step / 4 + state["phase"])
    center = np.array([frame_w / 2 + state["dx"] + step, frame_h / 2 + state["dy"]])
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    matrix[:, 2] += center - np.array([width / 2, height / 2])
    frame = cv2.warpAffine(
        np.clip(face, 0, 255).astype(np.uint8),
        matrix,
        FRAME_SIZE,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=state["background"],
    )
    noise = np.empty(frame.shape, np.int16)
    cv2.randn(noise, 0, 3)  # seeded per video in `write_demo_video`
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def write_demo_video(path, label, num_frames, seed, photo=None):
    """One labelled video; returns its path."""
    rng = np.random.default_rng(seed)
    cv2.setRNGSeed(int(seed))
    state = {
        "phase": rng.uniform(0, 2 * np.pi),
        "scale": rng.uniform(0.9, 1.1),
        "dx": rng.uniform(-40, 20),
        "dy": rng.uniform(-10, 10),
        "background": tuple(float(v) for v in rng.uniform(40, 160, 3)),
    }
    photo = astronaut() if photo is None else photo
    writer = cv2.VideoWriter(os.fspath(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, FRAME_SIZE)
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write MJPG video")
    for step in range(num_frames):
        writer.write(cv2.cvtColor(_frame(photo, label, step, state), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def make_demo_videos(
    folder, num_videos=32, num_frames=24, test_fraction=0.25, seed=0, dev_fraction=0.0
):
    """Write the demo's videos; returns rows (video_id, path, label, split, subject).

    Labels spread evenly over 0-63 in video order; every 1/test_fraction-th video
    (from a seeded offset) is held out for testing, and of the others every
    1/dev_fraction-th (in turn) goes to a dev split, so all splits cover the range.
    """
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    labels = np.round(np.linspace(0, BDI_MAX, num_videos)).astype(int)
    every = max(int(round(1 / test_fraction)), 2)
    offset = int(rng.integers(every))
    rows = []
    photo = astronaut()
    for index, label in enumerate(labels):
        video_id = f"demo_{index:03d}"
        path = os.path.join(folder, f"{video_id}.avi")
        write_demo_video(path, int(label), num_frames, seed=seed * 1000 + index, photo=photo)
        split = "test" if index % every == offset else "train"
        if split == "train" and dev_fraction and _dev_turn(index, every, offset, dev_fraction):
            split = "dev"
        rows.append(
            {
                "video_id": video_id,
                "path": path,
                "label": int(label),
                "split": split,
                "subject": video_id,
            }
        )
    return rows


def _dev_turn(index, every, offset, dev_fraction):
    """Whether the `index`-th video, not held out for testing, goes to the dev split."""
    kept = index - (index // every) - (1 if index % every > offset else 0)
    share = dev_fraction / (1 - 1 / every)  # the dev share among the non-test videos
    return int((kept + 1) * share) > int(kept * share)
