import hashlib
import os

import cv2
import numpy as np
import pandas as pd
import pytest

from depnet_tf.data.frames import list_frames, read_frames
from depnet_tf.errors import DataError
from depnet_tf.faces import openface
from depnet_tf.faces.align import LOOSE_TEMPLATE_224, align_face, similarity_transform
from depnet_tf.faces.extract import extract_all, extract_faces, is_finished
from tests.faces.videos import astronaut_face, write_blank_video, write_face_video


def test_faces_found_in_at_least_90_percent_of_frames(extracted):
    _, results = extracted
    for result in results:
        assert result.faces >= 0.9 * result.sampled and result.sampled >= 10


def test_layout_and_csv_match_openface(extracted):
    out, _ = extracted
    assert sorted(os.listdir(out)) == [
        "301_1_Freeform_video.csv",
        "301_1_Freeform_video.faces.json",  # ours beside OpenFace's layout: the settings
        "301_1_Freeform_video_aligned",
        "302_2_Northwind_video.csv",
        "302_2_Northwind_video.faces.json",
        "302_2_Northwind_video_aligned",
    ]
    names = sorted(os.listdir(out / "301_1_Freeform_video_aligned"))
    assert names[0] == "frame_det_00_000001.png"  # 1-based source frame numbers
    header = (out / "301_1_Freeform_video.csv").read_text().splitlines()[0]
    assert header.startswith("frame, face_id, timestamp, confidence, success")
    table = pd.read_csv(out / "301_1_Freeform_video.csv", skipinitialspace=True)
    assert list(table["frame"]) == list(range(1, 13))
    assert table["timestamp"].iloc[1] == pytest.approx(1 / 25, abs=1e-3)
    assert {f"x_{i}" for i in range(5)} | {f"y_{i}" for i in range(5)} <= set(table.columns)
    image = cv2.imread(str(out / "301_1_Freeform_video_aligned" / names[0]))
    assert image.shape == (64, 64, 3)


def test_aligned_eyes_are_level_and_on_the_template(detector):
    photo = astronaut_face()
    rotated = cv2.warpAffine(photo, cv2.getRotationMatrix2D((256, 256), 12, 0.8), (512, 512))
    face = detector.detect([rotated])[0]
    aligned = align_face(rotated, face.landmarks, 224)
    again = detector.detect([aligned])[0]
    left, right = again.landmarks[0], again.landmarks[1]
    assert abs(left[1] - right[1]) <= 2.0
    np.testing.assert_allclose(again.landmarks[:2], LOOSE_TEMPLATE_224[:2], atol=8.0)


def test_similarity_transform_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([5.0, -3.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = points @ (scale * rotation).T + shift
    matrix = similarity_transform(points, target)
    np.testing.assert_allclose(matrix[:, :2], scale * rotation, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-9)


def test_box_crop_mode(tmp_path, face_videos, detector):
    result = extract_faces(
        face_videos[0], tmp_path, detector, crop="box", image_size=48, max_frames=3
    )
    assert result.faces == 3
    assert cv2.imread(
        str(tmp_path / "301_1_Freeform_video_aligned" / "frame_det_00_000001.png")
    ).shape == (48, 48, 3)


def test_sampling_options(tmp_path, face_videos, detector):
    result = extract_faces(face_videos[0], tmp_path, detector, every=3, image_size=32)
    table = pd.read_csv(tmp_path / "301_1_Freeform_video.csv", skipinitialspace=True)
    assert list(table["frame"]) == [1, 4, 7, 10] and result.sampled == 4
    result = extract_faces(
        face_videos[0], tmp_path, detector, max_frames=3, image_size=32, overwrite=True
    )
    table = pd.read_csv(tmp_path / "301_1_Freeform_video.csv", skipinitialspace=True)
    assert list(table["frame"]) == [1, 7, 12]


def test_resumable_and_half_written_runs_are_redone(tmp_path, face_videos, detector):
    video = face_videos[0]
    first = extract_faces(video, tmp_path, detector, max_frames=2, image_size=32)
    again = extract_faces(video, tmp_path, detector, max_frames=2, image_size=32)
    assert not first.skipped_existing and again.skipped_existing
    os.remove(tmp_path / "301_1_Freeform_video.csv")  # as if killed before the CSV
    assert not is_finished(tmp_path, "301_1_Freeform_video")
    redone = extract_faces(video, tmp_path, detector, max_frames=2, image_size=32)
    assert not redone.skipped_existing and redone.faces == 2
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]


def test_faces_made_with_other_settings_are_redone(tmp_path, face_videos, detector):
    import json

    video = face_videos[0]
    extract_faces(video, tmp_path, detector, max_frames=2, image_size=32)
    record = json.loads((tmp_path / "301_1_Freeform_video.faces.json").read_text())
    assert record["settings"]["size"] == 32 and record["settings"]["max_frames"] == 2
    assert record["video_sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()
    for changes, expected in [
        ({"image_size": 48}, "size 32 -> 48"),
        ({"image_size": 48, "crop": "box"}, "crop 'align' -> 'box'"),
        ({"image_size": 48, "crop": "box", "every": 2}, "every 1 -> 2"),
    ]:
        result = extract_faces(video, tmp_path, detector, max_frames=2, **changes)
        assert not result.skipped_existing and expected in result.redone, result.redone
        first = sorted((tmp_path / "301_1_Freeform_video_aligned").iterdir())[0]
        assert cv2.imread(str(first)).shape[0] == 48  # the crops are the new ones
    # A video finished by a version that recorded nothing is redone too.
    (tmp_path / "301_1_Freeform_video.faces.json").unlink()
    result = extract_faces(video, tmp_path, detector, max_frames=2, image_size=48)
    assert "no record of their settings" in result.redone


def test_bad_videos_are_reported_and_skipped(tmp_path, face_videos, detector):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.avi"
    corrupt.write_bytes(os.urandom(4096))
    blank = write_blank_video(tmp_path / "blank.avi")
    missing = tmp_path / "missing.mp4"
    out = tmp_path / "out"
    results, failures = extract_all(
        [empty, corrupt, blank, missing, face_videos[1]],
        out,
        detector,
        progress=False,
        image_size=32,
        max_frames=2,
    )
    assert [r.stem for r in results] == ["302_2_Northwind_video"]
    messages = dict(failures)
    assert "0 bytes" in messages[str(empty)]
    assert "cannot open" in messages[str(corrupt)] or "decoded" in messages[str(corrupt)]
    assert "no face found in 2 sampled frames" in messages[str(blank)]
    assert "no such video file" in messages[str(missing)]
    assert all("\n" not in m for m in messages.values())
    assert sorted(os.listdir(out)) == [
        "302_2_Northwind_video.csv",
        "302_2_Northwind_video.faces.json",
        "302_2_Northwind_video_aligned",
    ]


def test_read_openface_folder_with_failed_frames(tmp_path):
    """A real OpenFace-style folder: 112 px bmp frames and a CSV with success=0 rows."""
    folder = tmp_path / "203_1_cut_combined_aligned"
    folder.mkdir()
    rows = []
    for frame in range(1, 7):
        image = np.full((112, 112, 3), frame * 30, np.uint8)
        cv2.imwrite(str(folder / f"frame_det_00_{frame:06d}.bmp"), image)
        rows.append(
            {
                "frame": frame,
                "face_id": 0,
                "timestamp": (frame - 1) / 30,
                "confidence": 0.98 if frame != 5 else 0.3,
                "success": 0 if frame == 2 else 1,
            }
        )
    openface.write_csv(tmp_path / "203_1_cut_combined.csv", rows)
    frames = list_frames(folder)
    assert [n for n, _ in frames] == [1, 3, 4, 6]
    image = read_frames([frames[0][1]], 224)[0]
    assert image.shape == (224, 224, 3) and image.dtype == np.uint8


def test_grayscale_and_rgba_frames_are_read_as_rgb(tmp_path):
    gray = tmp_path / "frame_det_00_000001.png"
    rgba = tmp_path / "frame_det_00_000002.png"
    cv2.imwrite(str(gray), np.full((40, 40), 100, np.uint8))
    cv2.imwrite(
        str(rgba), np.dstack([np.full((40, 40, 3), 50, np.uint8), np.full((40, 40), 255, np.uint8)])
    )
    assert read_frames([gray], 40)[0].shape == (40, 40, 3)
    assert read_frames([rgba], 32)[0].shape == (32, 32, 3)


def test_folder_without_images(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="holds no images"):
        list_frames(tmp_path)


def test_astronaut_video_writer_makes_real_files(tmp_path):
    path = write_face_video(tmp_path / "v.avi", num_frames=3)
    capture = cv2.VideoCapture(str(path))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3


def test_a_video_whose_output_cannot_be_written_is_skipped(tmp_path, detector):
    first = write_face_video(tmp_path / "first.avi", num_frames=4)
    second = write_face_video(tmp_path / "second.avi", num_frames=4, seed=1)
    out = tmp_path / "faces"
    out.mkdir()
    (out / "first_aligned").write_text("a file where the frame folder should go")
    results, failures = extract_all([first, second], out, detector, progress=False, image_size=32)
    assert [r.video for r in results] == [str(second)]
    assert len(failures) == 1 and failures[0][0] == str(first)
    assert (
        failures[0][1].startswith(f"{first}: cannot write its faces: ")
        and "\n" not in failures[0][1]
    )
    assert (out / "first_aligned").read_text() == "a file where the frame folder should go"
    assert not [p.name for p in out.iterdir() if p.name.startswith(".tmp")]


def test_videos_and_faces_in_gfile_storage(tmp_path, face_videos, detector):
    """Videos read from and faces written to `ram://` equal a local run byte for byte."""
    import uuid

    import tensorflow as tf

    root = f"ram://faces-{uuid.uuid4().hex[:8]}"
    for video in face_videos:
        tf.io.gfile.makedirs(f"{root}/videos/sub")
        tf.io.gfile.copy(str(video), f"{root}/videos/sub/{video.name}")
    options = {"max_frames": 4, "image_size": 32}
    local, failures = extract_all(face_videos, tmp_path, detector, progress=False, **options)
    assert not failures
    remote, failures = extract_all(
        [f"{root}/videos"], f"{root}/faces", detector, progress=False, **options
    )
    assert not failures and [r.faces for r in remote] == [r.faces for r in local]
    assert [r.video for r in remote] == [f"{root}/videos/sub/{v.name}" for v in face_videos]
    for result in local:
        stem = result.stem
        assert is_finished(f"{root}/faces", stem)
        names = sorted(os.listdir(tmp_path / f"{stem}_aligned"))
        assert sorted(tf.io.gfile.listdir(f"{root}/faces/{stem}_aligned")) == names
        for name in [*[f"{stem}_aligned/{n}" for n in names], f"{stem}.csv"]:
            with tf.io.gfile.GFile(f"{root}/faces/{name}", "rb") as file:
                assert file.read() == (tmp_path / name).read_bytes(), name
    again, _ = extract_all([f"{root}/videos"], f"{root}/faces", detector, progress=False, **options)
    assert all(r.skipped_existing for r in again)
    # Other settings are not "done": the videos are redone, and say why.
    other, _ = extract_all(
        [f"{root}/videos"], f"{root}/faces", detector, progress=False, max_frames=3, image_size=32
    )
    assert all(not r.skipped_existing and "max_frames 4 -> 3" in r.redone for r in other)

    with pytest.raises(DataError, match=f"^{root}/nothing.mp4: no such video file$"):
        extract_faces(f"{root}/nothing.mp4", f"{root}/faces", detector)
