"""The one face-frame reader: listing a frame folder, decoding and resizing a frame.

Training, the feature cache, evaluation, `depnet predict` and the serving
signatures all read pixels through `decode_frame`: TensorFlow's decoder, RGB,
an antialiased bilinear resize to the model's size, then rounding to uint8.
So a deployed model sees exactly the pixels it was trained on, whatever size
the aligned frames were written at (OpenFace writes 112 px by default).

Folders may be OpenFace's (`frame_det_00_000001.bmp` plus `<stem>.csv`) or
ours (`depnet faces`), or any folder of images.
"""

import os
import re

import numpy as np
import pandas as pd
import tensorflow as tf

from depnet_tf import files
from depnet_tf.errors import DataError
from depnet_tf.faces.openface import FRAME_PATTERN, IMAGE_EXTENSIONS, MIN_CONFIDENCE

UNREADABLE = "cannot decode this face image (not a PNG, JPEG, BMP or GIF file)"
_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"BM", b"GIF8")


def csv_for(folder):
    """The OpenFace CSV beside an `<stem>_aligned` folder, or None."""
    folder = files.resolve("", folder).rstrip("/")
    if folder.endswith("_aligned"):
        candidate = folder[: -len("_aligned")] + ".csv"
        if files.isfile(candidate):
            return candidate
    return None


def list_frames(folder, min_confidence=MIN_CONFIDENCE):
    """Sorted (frame number, image path) of the usable faces in a frame folder.

    Frames are numbered by OpenFace's name (`frame_det_00_000001.bmp`) or, in
    any other folder of images, by sorted position. The folder may be a
    `tf.io.gfile` URL. When the OpenFace CSV sits
    beside the folder, frames with `success` 0 or `confidence` below
    `min_confidence` are left out.
    """
    folder = os.fspath(folder)
    if not files.isdir(folder):
        raise DataError(f"{folder}: no such frame folder")
    names = sorted(n for n in files.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
    if not names:
        raise DataError(f"{folder}: the folder holds no images (.bmp, .png, .jpg)")
    frames = []
    for position, name in enumerate(names, start=1):
        match = FRAME_PATTERN.match(name)
        frames.append((int(match.group(2)) if match else position, os.path.join(folder, name)))
    csv = csv_for(folder)
    if csv is not None:
        good = _good_frames(csv, min_confidence)
        frames = [f for f in frames if f[0] in good]
    return sorted(frames)


def frames_source(frames):
    """SHA-256 of what a video's cached features were computed from.

    It covers the usable frames (numbers and file names, in order), the
    OpenFace CSV beside their folder (which frames are usable), and the
    `depnet faces` record (`<stem>.faces.json`: the crop settings and the
    video's digest), when they exist. A re-run of `depnet faces` with other
    settings, another video, or an edited CSV changes it; file contents edited
    in place under the same names do not (they are not read again: that would
    cost a second pass over every frame).
    """
    import hashlib

    from depnet_tf.digests import file_sha256

    digest = hashlib.sha256()
    for number, path in frames:
        digest.update(f"{int(number)}:{os.path.basename(os.fspath(path))}\n".encode())
    if frames:
        folder = os.path.dirname(os.fspath(frames[0][1]))
        csv = csv_for(folder)
        if csv is not None:
            digest.update(f"csv:{file_sha256(csv)}\n".encode())
        record = folder[: -len("_aligned")] + ".faces.json" if folder.endswith("_aligned") else None
        if record is not None and files.isfile(record):
            digest.update(f"faces:{file_sha256(record)}\n".encode())
    return digest.hexdigest()


def _good_frames(csv, min_confidence):
    try:
        with files.open_file(csv) as file:
            table = pd.read_csv(file, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{csv}: cannot parse the OpenFace CSV ({error})") from None
    missing = [c for c in ("frame", "confidence", "success") if c not in table.columns]
    if missing:
        raise DataError(f"{csv}: the OpenFace CSV lacks columns {missing}")
    keep = (table["success"] == 1) & (table["confidence"] >= min_confidence)
    return set(table.loc[keep, "frame"].astype(int))


def decode_frame(data, image_size, name="a face image"):
    """Encoded image bytes (bmp/png/jpg/gif) -> float32 (S, S, 3) RGB with uint8 values.

    Grayscale and RGBA become RGB; the image is resized with an antialiased
    bilinear filter and rounded to whole 0-255 values, as a uint8 frame a
    client would send. Bytes that are no image at all fail with `UNREADABLE`
    and `name` (see `frame_error`), not TensorFlow's "Unknown image file format".
    """
    known = tf.reduce_any([tf.equal(tf.strings.substr(data, 0, len(m)), m) for m in _MAGIC])
    with tf.control_dependencies([tf.debugging.Assert(known, [UNREADABLE, name])]):
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image = tf.image.resize(tf.cast(image, tf.float32), (image_size, image_size), antialias=True)
    return tf.round(tf.clip_by_value(image, 0.0, 255.0))


def load_frame(path, image_size):
    """`decode_frame` of the file at `path` (a string tensor), in-graph."""
    return decode_frame(tf.io.read_file(path), image_size, path)


def read_frames(paths, image_size):
    """Frames as a uint8 array (N, S, S, 3), read exactly as the datasets read them.

    Raises:
        DataError: naming the first file that cannot be read.
    """
    try:
        images = [_load_frame_graph(tf.constant(os.fspath(p)), image_size) for p in paths]
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as error:
        raise (
            frame_error(error)
            or first_unreadable(paths, image_size)
            or DataError(op_error_reason(error))
        ) from None
    return np.stack([image.numpy() for image in images]).astype(np.uint8)


@tf.function(reduce_retracing=True)
def _load_frame_graph(path, image_size):
    return load_frame(path, image_size)


def frame_error(error):
    """The one-line `DataError` for a `tf.errors.OpError` raised by `decode_frame`, else None."""
    message = str(error)
    at = message.find(UNREADABLE)
    if at < 0:
        return None
    path = re.search(r"\[([^\[\]]+)\]", message[at + len(UNREADABLE) :])
    return DataError(f"{path.group(1) if path else 'a face image'}: {UNREADABLE}")


def first_unreadable(paths, image_size):
    """The `DataError` of the first file in `paths` that `load_frame` cannot read, or None.

    Finds the file behind a decoding error that names none, e.g. a truncated
    image whose first bytes are still valid, or a file deleted since listing.
    """
    for path in paths:
        try:
            load_frame(os.fspath(path), image_size)
        except tf.errors.NotFoundError:
            return DataError(f"{path}: the face image no longer exists")
        except tf.errors.InvalidArgumentError as error:
            if UNREADABLE in error.message:
                return DataError(f"{path}: {UNREADABLE}")
            return DataError(f"{path}: cannot decode this face image ({op_error_reason(error)})")
    return None


def op_error_reason(error):
    """A `tf.errors.OpError`'s message on one line, without its graph-node decorations."""
    text = re.sub(r"\{\{[^}]*\}\}\s*", "", error.message.splitlines()[0])
    return text.split(" [Op:")[0].strip()
