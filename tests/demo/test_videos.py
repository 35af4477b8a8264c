import cv2
import numpy as np

from depnet_tf.demo.videos import FRAME_SIZE, astronaut, make_demo_videos, write_demo_video


def read_all(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return np.stack(frames)
        frames.append(frame)


def test_videos_are_real_files_with_the_requested_frames(tmp_path):
    path = write_demo_video(tmp_path / "a.avi", 20, 7, seed=1)
    frames = read_all(path)
    assert frames.shape == (7, FRAME_SIZE[1], FRAME_SIZE[0], 3)


def test_the_label_changes_the_face(tmp_path):
    low = read_all(write_demo_video(tmp_path / "low.avi", 0, 6, seed=5))
    high = read_all(write_demo_video(tmp_path / "high.avi", 63, 6, seed=5))
    # Same seed, so the same motion and background: only the label differs.
    assert high.mean() < low.mean() - 5
    assert np.abs(high.astype(int) - low.astype(int)).mean() > 5


def test_splits_cover_the_range_and_are_reproducible(tmp_path):
    rows = make_demo_videos(tmp_path / "v", num_videos=12, num_frames=5, test_fraction=0.25, seed=3)
    again = make_demo_videos(
        tmp_path / "w", num_videos=12, num_frames=5, test_fraction=0.25, seed=3
    )
    assert [r["split"] for r in rows] == [r["split"] for r in again]
    test = [r["label"] for r in rows if r["split"] == "test"]
    assert (
        len(test) == 3
        and min(r["label"] for r in rows) == 0
        and max(r["label"] for r in rows) == 63
    )
    assert max(test) - min(test) >= 30  # held-out videos spread over the range
    assert len({r["video_id"] for r in rows}) == 12


def test_the_face_is_the_astronaut_portrait():
    face = astronaut()
    assert face.shape == (200, 200, 3) and face.dtype == np.uint8
