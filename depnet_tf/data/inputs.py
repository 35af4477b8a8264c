"""The frames of one video or frame folder, sampled as `predict` and `explain` take them.

A video goes through face extraction first (crops made as the model's training
faces were, in a temporary folder); a folder is read as OpenFace output. The samples are K
evenly spread clips (or frames, for the single-image models), read by the one
frame reader, so they are exactly what evaluation feeds the model.
"""

import contextlib
import os
import tempfile

import numpy as np

from depnet_tf import files
from depnet_tf.data import sampling
from depnet_tf.data.frames import list_frames, read_frames
from depnet_tf.errors import DataError
from depnet_tf.faces.openface import aligned_dir


@contextlib.contextmanager
def source_frames(path, settings, detector=None, progress=False):
    """Yield the [(frame number, image path)] of a video's faces or of a frame folder.

    A video's faces are extracted as `depnet faces` extracted the model's
    training faces: `settings` (`faces.extract.replay_settings`: crop size and
    mode, detector size, sampling) say how. The crops are written at the crop
    size and then read, like any frame folder, by the one frame reader, which
    resizes them to the model's size: so a video scores exactly as `evaluate`
    scores the frames `depnet faces` extracted from it. `detector` is used when
    its detector size is the settings'.
    """
    path = os.fspath(path)
    if files.isdir(path):
        yield list_frames(path)
        return
    if not files.exists(path):
        raise DataError(f"{path}: no such video file or frame folder")
    from depnet_tf.faces.detector import FaceDetector
    from depnet_tf.faces.extract import extract_faces

    if detector is None or detector.detect_size != settings["detect_size"]:
        detector = FaceDetector(detect_size=settings["detect_size"])
    with tempfile.TemporaryDirectory() as folder:  # a URL video: `VideoReader` downloads it
        result = extract_faces(
            path,
            folder,
            detector,
            every=settings["every"],
            max_frames=settings["max_frames"],
            crop=settings["crop"],
            image_size=settings["size"],
            progress=progress,
        )
        yield list_frames(aligned_dir(folder, result.stem))


def clip_frames(frames, num_frames, image_size, clips, single_frame=False, with_numbers=False):
    """K evenly spread uint8 clips (K, T, S, S, 3) from [(number, image path)].

    With `single_frame`, K evenly spread frames (K, S, S, 3) instead, as the
    single-image models are evaluated. With `with_numbers`, also the frame
    numbers of each sample, (K, T) (or (K, 1)).
    """
    positions = _positions(frames, num_frames, clips, single_frame)
    needed = np.unique(positions)
    images = read_frames([frames[i][1] for i in needed], image_size)
    batch = images[np.searchsorted(needed, positions)]
    batch = batch[:, 0] if single_frame else batch
    if with_numbers:
        return batch, np.asarray([[frames[i][0] for i in row] for row in positions])
    return batch


def clip_files(frames, num_frames, clips, single_frame=False):
    """The image files of the samples `clip_frames` reads: (K, T) paths, or (K,) with
    `single_frame`, for signatures that decode the images themselves (`serving_encoded`)."""
    positions = _positions(frames, num_frames, clips, single_frame)
    paths = np.array([[os.fspath(frames[i][1]) for i in row] for row in positions], dtype=object)
    return paths[:, 0] if single_frame else paths


def _positions(frames, num_frames, clips, single_frame):
    if not frames:
        raise DataError("no usable face frames")
    return sampling.eval_clips(len(frames), 1 if single_frame else num_frames, clips)
