"""The one frame reader: training, caching and `depnet predict` see the same pixels."""

import cv2
import numpy as np
import pandas as pd
import pytest

from depnet_tf.data import DataError, Manifest, clip_dataset
from depnet_tf.data.frames import list_frames, read_frames
from depnet_tf.data.inputs import clip_frames


def write_openface_folder(root, size=112, frames=7, ext="bmp"):
    """OpenFace's default output: 112 px bmp crops with fine detail that resizing must blur."""
    folder = root / "v_aligned"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for number in range(1, frames + 1):
        image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f"frame_det_00_{number:06d}.{ext}"), image)
    return folder


@pytest.mark.parametrize("size", [112, 48])
def test_predict_and_dataset_paths_give_identical_model_inputs(tmp_path, size):
    folder = write_openface_folder(tmp_path, size=size)
    table = pd.DataFrame(
        [{"video_id": "v", "frames": str(folder), "label": 10, "split": "test", "subject": "s"}]
    )
    manifest = Manifest(table, source="m")
    dataset = clip_dataset(
        manifest, "test", num_frames=3, clips_per_video=4, image_size=64, batch_size=4
    )
    training_inputs = next(iter(dataset))[0].numpy()
    served_inputs = clip_frames(list_frames(folder), 3, 64, 4)
    assert served_inputs.dtype == np.uint8 and served_inputs.shape == (4, 3, 64, 64, 3)
    np.testing.assert_array_equal(training_inputs, served_inputs.astype(np.float32))


def test_resized_frames_are_whole_values(tmp_path):
    folder = write_openface_folder(tmp_path, frames=1, ext="png")
    image = read_frames([p for _, p in list_frames(folder)], 64)[0]
    direct = cv2.cvtColor(cv2.imread(str(next(folder.iterdir()))), cv2.COLOR_BGR2RGB)
    # An antialiased downscale: each output pixel is close to the mean of its 1.75 px patch.
    assert abs(float(image.mean()) - float(direct.mean())) < 1.0


def test_read_frames_names_an_unreadable_file(tmp_path):
    bad = tmp_path / "frame_det_00_000001.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match=f"^{bad}: cannot decode this face image"):
        read_frames([bad], 32)
