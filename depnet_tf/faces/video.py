"""Decoding sampled frames of a video file with OpenCV."""

import contextlib
import os

import cv2
import numpy as np

from depnet_tf import files
from depnet_tf.errors import DataError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".wmv", ".mpg", ".mpeg")


class VideoReader:
    """Open a video and read chosen frames as RGB uint8 arrays.

    Args:
        path: the video file, local or a `tf.io.gfile` URL (downloaded to a
            temporary file while the reader is open; errors name the URL).

    Raises:
        DataError: the file is missing, empty, or OpenCV cannot decode it.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        if not files.isfile(self.path):
            raise DataError(f"{self.path}: no such video file")
        self._download = contextlib.ExitStack()
        local = self._download.enter_context(files.local_copy(self.path))
        if os.path.getsize(local) == 0:
            self._download.close()
            raise DataError(f"{self.path}: the video file is empty (0 bytes)")
        self._capture = cv2.VideoCapture(local)
        if not self._capture.isOpened():
            self._download.close()
            raise DataError(f"{self.path}: OpenCV cannot open this video (corrupt or unsupported)")
        self.fps = self._capture.get(cv2.CAP_PROP_FPS) or 25.0
        self.frame_count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if self.frame_count <= 0:
            self.frame_count = self._count_frames()

    def _count_frames(self):
        count = 0
        while self._capture.grab():
            count += 1
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        return count

    def sample_indices(self, every=1, max_frames=None):
        """0-based indices of every `every`-th frame, thinned evenly to at most `max_frames`."""
        if every < 1:
            raise DataError(f"`every` must be >= 1. Received: every={every}")
        indices = np.arange(0, self.frame_count, every)
        if max_frames is not None and len(indices) > max_frames:
            picks = np.linspace(0, len(indices) - 1, max_frames).round().astype(int)
            indices = indices[np.unique(picks)]
        return indices.tolist()

    def read(self, indices):
        """Yield (index, RGB frame) for the sorted `indices`, decoding only those frames."""
        wanted = iter(sorted(indices))
        target = next(wanted, None)
        position = 0
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        while target is not None:
            if not self._capture.grab():
                if position == 0:
                    raise DataError(f"{self.path}: no frame could be decoded (corrupt video)")
                return  # the container promised more frames than it holds
            if position == target:
                ok, frame = self._capture.retrieve()
                if ok:
                    yield position, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                target = next(wanted, None)
            position += 1

    def close(self):
        self._capture.release()
        self._download.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def find_videos(inputs):
    """Expand files and folders (recursively, local or URLs) into a sorted list of videos."""
    videos = []
    for item in inputs:
        item = os.fspath(item)
        if files.isdir(item):
            for root, _, names in files.walk(item):
                videos += [
                    os.path.join(root, n) for n in names if n.lower().endswith(VIDEO_EXTENSIONS)
                ]
        else:
            videos.append(item)  # a missing or odd file is reported when it is opened
    return sorted(videos)
