"""OpenFace 2.x FeatureExtraction layout: writing it, and reading it (ours or OpenFace's own).

- aligned faces: `<out>/<stem>_aligned/frame_det_00_%06d.<ext>`, 1-based source frame;
- a CSV `<out>/<stem>.csv` whose header starts `frame, face_id, timestamp,
  confidence, success` (", "-separated, hence `skipinitialspace=True`).
"""

import os
import re

import cv2
import numpy as np
import pandas as pd

from depnet_tf.data.errors import DataError

IMAGE_EXTENSIONS = (".bmp", ".png", ".jpg", ".jpeg")
FRAME_PATTERN = re.compile(r"frame_det_(\d+)_(\d+)\.(?:bmp|png|jpe?g)$", re.IGNORECASE)
CSV_COLUMNS = ("frame", "face_id", "timestamp", "confidence", "success")
MIN_CONFIDENCE = 0.75  # OpenFace's own rule of thumb for a reliable track


def aligned_dir(out_dir, stem):
    return os.path.join(out_dir, f"{stem}_aligned")


def frame_name(frame_number, ext=".png"):
    return f"frame_det_00_{frame_number:06d}{ext}"


def write_csv(path, rows):
    """Write OpenFace-style rows (dicts), with OpenFace's ", " separators."""
    frame = pd.DataFrame(rows)
    with open(path, "w", newline="") as file:
        file.write(", ".join(frame.columns) + "\n")
        for values in frame.itertuples(index=False):
            file.write(", ".join(_format(v) for v in values) + "\n")


def _format(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}"
    return str(value)


def csv_for(folder):
    """The CSV beside an `<stem>_aligned` folder, or None."""
    folder = os.path.normpath(folder)
    if folder.endswith("_aligned"):
        candidate = folder[: -len("_aligned")] + ".csv"
        if os.path.isfile(candidate):
            return candidate
    return None


def list_frames(folder, min_confidence=MIN_CONFIDENCE):
    """Sorted (frame number, image path) of the usable faces in a frame folder.

    The folder may be OpenFace's (`frame_det_00_000001.bmp`) or ours (png), or
    any folder of images (numbered by sorted name). When the OpenFace CSV sits
    beside the folder, frames with `success` 0 or `confidence` below
    `min_confidence` are left out.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise DataError(f"{folder}: no such frame folder")
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
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


def _good_frames(csv, min_confidence):
    try:
        table = pd.read_csv(csv, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{csv}: cannot parse the OpenFace CSV ({error})") from None
    missing = [c for c in ("frame", "confidence", "success") if c not in table.columns]
    if missing:
        raise DataError(f"{csv}: the OpenFace CSV lacks columns {missing}")
    keep = (table["success"] == 1) & (table["confidence"] >= min_confidence)
    return set(table.loc[keep, "frame"].astype(int))


def read_image(path, size=None):
    """An RGB uint8 image; grayscale and RGBA are converted, and it is resized to `size`."""
    image = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DataError(f"{path}: cannot read the image")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    else:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.dtype != np.uint8:
        image = (image / (np.iinfo(image.dtype).max / 255.0)).astype(np.uint8)
    if size is not None and image.shape[:2] != (size, size):
        shrink = image.shape[0] > size
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return image
