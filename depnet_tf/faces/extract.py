"""`extract_faces`: face videos -> aligned 224x224 face crops in OpenFace's layout (paper, 5.2.1).

The paper ran OpenFace to detect, align and crop faces to 224x224 RGB. This does
the same job with the `mtcnn` detector (5 landmarks) and writes OpenFace's
layout, so every reader takes either tool's output.
"""

import dataclasses
import os
import shutil
import tempfile

import cv2
from tqdm.auto import tqdm

from depnet_tf import files
from depnet_tf.constants import CROP_MODES, FACE_EVERY, FACE_MAX_FRAMES
from depnet_tf.errors import DataError, StorageError
from depnet_tf.faces import openface
from depnet_tf.faces.align import align_face, crop_box
from depnet_tf.faces.video import VideoReader, find_videos
from depnet_tf.files import atomic_path, remove_stale_temporaries
from depnet_tf.sharding import shard_of


@dataclasses.dataclass
class FaceResult:
    video: str
    stem: str
    sampled: int = 0
    faces: int = 0
    skipped_existing: bool = False


def is_finished(out_dir, stem):
    """A video is done when its CSV exists: the CSV is written last, atomically."""
    return files.isfile(os.path.join(out_dir, f"{stem}.csv")) and files.isdir(
        openface.aligned_dir(out_dir, stem)
    )


def extract_faces(
    video,
    out_dir,
    detector,
    *,
    every=FACE_EVERY,
    max_frames=FACE_MAX_FRAMES,
    crop="align",
    image_size=224,
    chunk=64,
    overwrite=False,
    progress=False,
):
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
        progress: show a progress bar over the sampled frames (on standard error).

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
    if files.is_url(out_dir):
        options = dict(every=every, max_frames=max_frames, crop=crop, image_size=image_size)
        return _extract_to_url(video, out_dir, detector, chunk, progress, options)
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
        frames = tqdm(
            reader.read(indices),
            total=len(indices),
            desc="faces",
            unit="frame",
            disable=None if progress else True,
            leave=False,
        )
        for index, frame in frames:
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


def _extract_to_url(video, url, detector, chunk, progress, options):
    """`extract_faces` into a local temporary folder, then uploaded: frames first, CSV last."""
    stem = os.path.splitext(os.path.basename(video))[0]
    csv_url, frames_url = os.path.join(url, f"{stem}.csv"), openface.aligned_dir(url, stem)
    files.remove(csv_url)  # not finished: whatever is there is from a run cut short
    files.remove(frames_url)
    with tempfile.TemporaryDirectory(prefix="depnet-faces-") as local:
        result = extract_faces(
            video, local, detector, chunk=chunk, progress=progress, overwrite=True, **options
        )
        files.upload_tree(openface.aligned_dir(local, stem), frames_url, last=())
        files.upload(os.path.join(local, f"{stem}.csv"), csv_url)
    return result


def _process(pending, detector, folder, fps, crop, image_size):
    if not pending:
        return []
    faces = detector.detect([frame for _, frame in pending])
    rows = []
    for (index, frame), face in zip(pending, faces):
        number = index + 1  # OpenFace numbers frames from 1
        row = {
            "frame": number,
            "face_id": 0,
            "timestamp": index / fps,
            "confidence": 0.0,
            "success": 0,
        }
        if face is not None:
            if crop == "align":
                aligned = align_face(frame, face.landmarks, image_size)
            else:
                aligned = crop_box(frame, face.box, image_size)
            cv2.imwrite(
                os.path.join(folder, openface.frame_name(number)),
                cv2.cvtColor(aligned, cv2.COLOR_RGB2BGR),
            )
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


def extract_all(inputs, out_dir, detector=None, progress=True, shard=None, **options):
    """Run `extract_faces` over files and folders; bad videos are reported and skipped.

    Args:
        shard: (I, N) to take only shard I of N of the videos (`depnet_tf.sharding`).

    Returns:
        (results, failures): `FaceResult`s, and (video, message) pairs.
    """
    from depnet_tf.faces.detector import FaceDetector

    found = find_videos(inputs)
    if not found:
        raise DataError(f"no video files found in {[os.fspath(i) for i in inputs]}")
    videos = shard_of(found, shard)
    detector = detector or FaceDetector()
    files.makedirs(out_dir)
    remove_stale_temporaries(out_dir)
    results, failures = [], []
    for video in tqdm(videos, desc="faces", unit="video", disable=None if progress else True):
        try:
            results.append(extract_faces(video, out_dir, detector, **options))
        except DataError as error:
            failures.append((video, str(error)))
        except (OSError, StorageError) as error:  # its output cannot be written
            failures.append((video, f"{video}: cannot write its faces: {error}"))
    return results, failures
