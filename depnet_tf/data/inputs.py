"""The frames of one video or frame folder, sampled as `predict` and `explain` take them.

A video goes through face extraction first (aligned crops at the model's size,
in a temporary folder); a folder is read as OpenFace output. The samples are K
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
def source_frames(path, image_size, detector=None, progress=False, **face_options):
    """Yield the [(frame number, image path)] of a video's faces or of a frame folder.

    A video's faces are extracted as `depnet faces` extracts them, with the same
    defaults; `face_options` (`every`, `max_frames`, `crop`) and `detector` change
    them as that command's flags do. Score a video with the options its model's
    training faces were extracted with, or the model sees other crops.
    """
    path = os.fspath(path)
    if files.isdir(path):
        yield list_frames(path)
        return
    if not files.exists(path):
        raise DataError(f"{path}: no such video file or frame folder")
    from depnet_tf.faces.detector import FaceDetector
    from depnet_tf.faces.extract import extract_faces

    with tempfile.TemporaryDirectory() as folder:  # a URL video: `VideoReader` downloads it
        result = extract_faces(
            path,
            folder,
            detector or FaceDetector(),
            image_size=image_size,
            progress=progress,
            **face_options,
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
