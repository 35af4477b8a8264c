"""Real short face videos for the tests, written with cv2.VideoWriter.

The face is scikit-image's bundled `astronaut` photo (Eileen Collins, NASA,
public domain), moved and scaled across frames on a plain background.
"""

import cv2
import numpy as np
from skimage import data


def astronaut_face():
    """The 512x512 RGB astronaut photo."""
    return data.astronaut()


def write_face_video(path, num_frames=12, size=(640, 480), fps=25, fourcc="MJPG", seed=0):
    """A video of the astronaut drifting and zooming; returns the per-frame face scale."""
    width, height = size
    rng = np.random.default_rng(seed)
    photo = astronaut_face()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} to {path}"
    for i in range(num_frames):
        scale = 0.75 + 0.15 * i / max(num_frames - 1, 1)
        face = cv2.resize(photo, None, fx=scale * height / 512, fy=scale * height / 512)
        canvas = np.full((height, width, 3), 90, np.uint8)
        x = int(10 + (width - face.shape[1] - 20) * i / max(num_frames - 1, 1))
        y = int(rng.integers(0, max(height - face.shape[0], 1)))
        canvas[y : y + face.shape[0], x : x + face.shape[1]] = face[: height - y, : width - x]
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def write_blank_video(path, num_frames=6, size=(160, 120), fourcc="MJPG"):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, size)
    for i in range(num_frames):
        writer.write(np.full((size[1], size[0], 3), 40 + i, np.uint8))
    writer.release()
    return path
