import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

from depnet_tf.faces.detector import FaceDetector  # noqa: E402
from tests.faces.videos import write_face_video  # noqa: E402

ARTIFACTS = os.environ.get(
    "DEPNET_TEST_ARTIFACTS",
    os.path.join(os.path.dirname(os.path.dirname(__file__)), "test-artifacts"),
)


def artifact(name):
    """Where a test keeps a file for people to look at afterwards (browser screenshots):
    `test-artifacts/` in the repository, or `$DEPNET_TEST_ARTIFACTS`."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    return os.path.join(ARTIFACTS, name)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session()


@pytest.fixture(scope="session")
def detector():
    return FaceDetector()


@pytest.fixture(scope="session")
def face_videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    return [
        write_face_video(folder / "301_1_Freeform_video.avi", num_frames=12, seed=1),
        write_face_video(
            folder / "302_2_Northwind_video.mp4", num_frames=10, seed=2, fourcc="mp4v"
        ),
    ]


@pytest.fixture(scope="session")
def extracted(tmp_path_factory, face_videos, detector):
    """`depnet faces` output for the two videos (64 px crops keep it quick)."""
    from depnet_tf.faces.extract import extract_all

    out = tmp_path_factory.mktemp("faces")
    results, failures = extract_all(face_videos, out, detector, progress=False, image_size=64)
    assert not failures
    return out, results


@pytest.fixture(scope="session")
def avec_dataset(tmp_path_factory):
    """The tiny AVEC2014-style data set of `tests.cli.dataset`, 32 px: (root, videos, manifest)."""
    from tests.cli.dataset import prepare

    root = tmp_path_factory.mktemp("avec")
    videos, manifest = prepare(root, 32)
    return root, videos, manifest
