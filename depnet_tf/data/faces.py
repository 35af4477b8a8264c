"""`extract_faces`: face videos -> aligned 224x224 face crops in OpenFace's layout (paper, 5.2.1).

The paper ran OpenFace to detect, align and crop faces to 224x224 RGB. This does
the same job with the `mtcnn` detector (5 landmarks) and writes OpenFace's
layout, so every reader takes either tool's output.
"""

import dataclasses
import os
import shutil

import cv2

from depnet_tf.atomic import atomic_path
from depnet_tf.data import openface
from depnet_tf.data.align import CROP_MODES, align_face, crop_box
from depnet_tf.data.errors import DataError
from depnet_tf.data.video import VideoReader, find_videos

DEFAULT_EVERY = 1
DEFAULT_MAX_FRAMES = 600  # evenly spread over the video; enough for many T=5 clips


@dataclasses.dataclass
class FaceResult:
    video: str
    stem: str
    sampled: int = 0
    faces: int = 0
    skipped_existing: bool = False


def is_finished(out_dir, stem):
    """A video is done when its CSV exists: the CSV is written last, atomically."""
    return os.path.isfile(os.path.join(out_dir, f"{stem}.csv")) and os.path.isdir(
        openface.aligned_dir(out_dir, stem)
    )


def extract_faces(video, out_dir, detector, *, every=DEFAULT_EVERY, max_frames=DEFAULT_MAX_FRAMES,
                  crop="align", image_size=224, chunk=64, overwrite=False):
    """Detect, align and write the faces of one video; returns a `FaceResult`.

    Args:
        video: path of the video file.
        out_dir: output folder; gets `<stem>_aligned/` and `<stem>.csv`.
        detector: a `FaceDetector`.
        every: sample every N-th frame.
        max_frames: then keep at most this many, evenly spread (None: all).
        crop: "align" (5-point similarity to the loose template) or "box".
        image_size: side of the written crops.
        chunk: frames decoded and detected at a time (bounds memory).
        overwrite: redo a finished video.

    Raises:
        DataError: unreadable video, or no face in any sampled frame. Nothing is
            left behind under the final names.
    """
    if crop not in CROP_MODES:
        raise DataError(f"`crop` must be one of {CROP_MODES}. Received: crop={crop!r}")
    stem = os.path.splitext(os.path.basename(video))[0]
    result = FaceResult(os.fspath(video), stem)
    if not overwrite and is_finished(out_dir, stem):
        result.skipped_existing = True
        return result
    final_dir = openface.aligned_dir(out_dir, stem)
    csv_path = os.path.join(out_dir, f"{stem}.csv")
    for stale in (csv_path,):
        if os.path.exists(stale):
            os.remove(stale)
    if os.path.isdir(final_dir):
        shutil.rmtree(final_dir)  # a half-finished earlier run
    rows = []
    with VideoReader(video) as reader, atomic_path(final_dir) as temporary_dir:
        os.makedirs(temporary_dir)
        indices = reader.sample_indices(every, max_frames)
        pending = []
        for index, frame in reader.read(indices):
            pending.append((index, frame))
            if len(pending) == chunk:
                rows += _process(pending, detector, temporary_dir, reader.fps, crop, image_size)
                pending = []
        rows += _process(pending, detector, temporary_dir, reader.fps, crop, image_size)
        result.sampled = len(rows)
        result.faces = sum(row["success"] for row in rows)
        if result.sampled == 0:
            raise DataError(f"{video}: no frame could be decoded")
        if result.faces == 0:
            raise DataError(f"{video}: no face found in {result.sampled} sampled frames")
    with atomic_path(csv_path) as temporary_csv:
        openface.write_csv(temporary_csv, rows)
    return result


def _process(pending, detector, folder, fps, crop, image_size):
    if not pending:
        return []
    faces = detector.detect([frame for _, frame in pending])
    rows = []
    for (index, frame), face in zip(pending, faces):
        number = index + 1  # OpenFace numbers frames from 1
        row = {"frame": number, "face_id": 0, "timestamp": index / fps,
               "confidence": 0.0, "success": 0}
        if face is not None:
            if crop == "align":
                aligned = align_face(frame, face.landmarks, image_size)
            else:
                aligned = crop_box(frame, face.box, image_size)
            cv2.imwrite(os.path.join(folder, openface.frame_name(number)),
                        cv2.cvtColor(aligned, cv2.COLOR_RGB2BGR))
            row.update(confidence=face.confidence, success=1)
            landmarks = face.landmarks
        else:
            landmarks = None
        for i in range(5):
            row[f"x_{i}"] = float(landmarks[i, 0]) if landmarks is not None else 0.0
        for i in range(5):
            row[f"y_{i}"] = float(landmarks[i, 1]) if landmarks is not None else 0.0
        rows.append(row)
    return rows


def extract_all(inputs, out_dir, detector=None, progress=True, **options):
    """Run `extract_faces` over files and folders; bad videos are reported and skipped.

    Returns:
        (results, failures): `FaceResult`s, and (video, message) pairs.
    """
    from tqdm.auto import tqdm

    from depnet_tf.data.detector import FaceDetector

    videos = find_videos(inputs)
    if not videos:
        raise DataError(f"no video files found in {[os.fspath(i) for i in inputs]}")
    detector = detector or FaceDetector()
    os.makedirs(out_dir, exist_ok=True)
    results, failures = [], []
    for video in tqdm(videos, desc="faces", unit="video", disable=not progress):
        try:
            results.append(extract_faces(video, out_dir, detector, **options))
        except DataError as error:
            failures.append((video, str(error)))
        except OSError as error:  # its output cannot be written, e.g. a file in the way
            failures.append((video, f"{video}: cannot write its faces: {error}"))
    return results, failures
