"""`extract_faces`: face videos -> aligned 224x224 face crops in OpenFace's layout (paper, 5.2.1).

The paper ran OpenFace to detect, align and crop faces to 224x224 RGB. This does
the same job with the `mtcnn` detector (5 landmarks) and writes OpenFace's
layout, so every reader takes either tool's output.
"""

import dataclasses
import json
import logging
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

log = logging.getLogger(__name__)


@dataclasses.dataclass
class FaceResult:
    video: str
    stem: str
    sampled: int = 0
    faces: int = 0
    skipped_existing: bool = False
    redone: str = ""  # why a finished video was done again (its settings differed)


RECORD_SUFFIX = ".faces.json"  # `<stem>.faces.json`: how a video's faces were made


def face_settings(detector, every, max_frames, crop, image_size):
    """What a video's crops depend on, as recorded beside them and checked on re-runs.

    The crop size, mode and template, the detector and the size frames are
    shrunk to for detection, and the frame sampling. `predict` and `explain`
    redo exactly this for a video file (the model records it from training).
    """
    return {
        "size": int(image_size),
        "crop": crop,
        "template": "5-point loose template, 0.8 scale" if crop == "align" else "box",
        "detector": "mtcnn",
        "detect_size": int(detector.detect_size),
        "every": int(every),
        "max_frames": None if max_frames is None else int(max_frames),
    }


def replay_settings(recorded=None, model_size=None, **overrides):
    """The face settings that redo a model's training faces for a new video.

    Starts from `depnet faces`' defaults (crops at `model_size`), takes what
    the model recorded of its training faces (`recorded`, `face_settings`'
    keys), then the `overrides` that are not None (`size`, `crop`, `every`,
    `max_frames`, `detect_size`). `max_frames` 0 means all frames.
    """
    from depnet_tf.constants import FACE_DETECT_SIZE

    settings = {
        "size": model_size,
        "crop": CROP_MODES[0],
        "every": FACE_EVERY,
        "max_frames": FACE_MAX_FRAMES,
        "detect_size": FACE_DETECT_SIZE,
    }
    for key in settings:
        if recorded and recorded.get(key, settings[key]) is not None:
            settings[key] = recorded.get(key, settings[key])
        if overrides.get(key) is not None:
            settings[key] = overrides[key]
    if settings["max_frames"] == 0:
        settings["max_frames"] = None
    if settings["size"] is None:
        raise ValueError("the face crop size is not known: pass `size` (or `model_size`)")
    return settings


def record_path(out_dir, stem):
    return os.path.join(out_dir, f"{stem}{RECORD_SUFFIX}")


def read_record(out_dir, stem):
    """The `<stem>.faces.json` record beside a video's crops, or None (none, or unreadable)."""
    path = record_path(out_dir, stem)
    if not files.isfile(path):
        return None
    try:
        with files.open_file(path, "rb") as file:
            record = json.loads(file.read())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def is_finished(out_dir, stem):
    """Whether a video's faces are complete: its CSV (written last, atomically) and crops."""
    return files.isfile(os.path.join(out_dir, f"{stem}.csv")) and files.isdir(
        openface.aligned_dir(out_dir, stem)
    )


def why_not_finished(out_dir, stem, settings):
    """None when the video's faces are done with `settings`, else why they must be (re)done.

    A video is done when it is complete (`is_finished`) and its record says its
    faces were made with these settings.
    """
    if not is_finished(out_dir, stem):
        return "not extracted"
    record = read_record(out_dir, stem)
    if record is None:
        return "its faces carry no record of their settings"
    made = record.get("settings", {})
    differing = sorted(k for k in set(made) | set(settings) if made.get(k) != settings.get(k))
    if differing:
        pairs = ", ".join(f"{k} {made.get(k)!r} -> {settings.get(k)!r}" for k in differing)
        return f"its faces were made with other settings ({pairs})"
    return None


def _write_record(out_dir, stem, video, settings):
    from depnet_tf import __version__
    from depnet_tf.digests import file_sha256

    record = {
        "video": os.path.basename(os.fspath(video)),
        "video_sha256": file_sha256(video),
        "settings": settings,
        "depnet_tf": __version__,
    }
    with atomic_path(record_path(out_dir, stem)) as temporary:
        with open(temporary, "w") as file:
            json.dump(record, file, indent=2)


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
        out_dir: output folder; gets `<stem>_aligned/`, `<stem>.csv` and
            `<stem>.faces.json` (the settings and the video's SHA-256). A video
            already done with other settings (or with none recorded) is redone,
            and the result says why (`redone`).
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
    settings = face_settings(detector, every, max_frames, crop, image_size)
    reason = why_not_finished(out_dir, stem, settings)
    if not overwrite and reason is None:
        result.skipped_existing = True
        return result
    if reason not in (None, "not extracted"):
        log.warning("redoing %s: %s", video, reason)
        result.redone = reason
    if files.is_url(out_dir):
        options = dict(every=every, max_frames=max_frames, crop=crop, image_size=image_size)
        return _extract_to_url(video, out_dir, detector, chunk, progress, options, result.redone)
    final_dir = openface.aligned_dir(out_dir, stem)
    csv_path = os.path.join(out_dir, f"{stem}.csv")
    for stale in (csv_path, record_path(out_dir, stem)):
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
    _write_record(out_dir, stem, video, settings)
    with atomic_path(csv_path) as temporary_csv:  # the completion marker, last
        openface.write_csv(temporary_csv, rows)
    return result


def _extract_to_url(video, url, detector, chunk, progress, options, redone=""):
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
        files.upload(record_path(local, stem), record_path(url, stem))
        files.upload(os.path.join(local, f"{stem}.csv"), csv_url)
    result.redone = redone
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
