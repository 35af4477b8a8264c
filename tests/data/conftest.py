import pytest

from depnet_tf.data.detector import FaceDetector
from tests.data.videos import write_face_video


@pytest.fixture(scope="session")
def detector():
    return FaceDetector()


@pytest.fixture(scope="session")
def face_videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    return [
        write_face_video(folder / "301_1_Freeform_video.avi", num_frames=12, seed=1),
        write_face_video(folder / "302_2_Northwind_video.mp4", num_frames=10, seed=2, fourcc="mp4v"),
    ]


@pytest.fixture(scope="session")
def extracted(tmp_path_factory, face_videos, detector):
    """`depnet faces` output for the two videos (64 px crops keep it quick)."""
    from depnet_tf.data.faces import extract_all

    out = tmp_path_factory.mktemp("faces")
    results, failures = extract_all(face_videos, out, detector, progress=False, image_size=64)
    assert not failures
    return out, results
