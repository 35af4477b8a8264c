"""OpenFace 2.x FeatureExtraction layout: its names, and writing it.

`depnet_tf.data.frames` reads this layout (ours or OpenFace's own).

- aligned faces: `<out>/<stem>_aligned/frame_det_00_%06d.<ext>`, 1-based source frame;
- a CSV `<out>/<stem>.csv` whose header starts `frame, face_id, timestamp,
  confidence, success` (", "-separated, hence `skipinitialspace=True`).
"""

import os
import re

import numpy as np
import pandas as pd

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
