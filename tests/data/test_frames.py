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


def halve_antialiased(image):
    """A 2x antialiased bilinear downscale written out: a triangle filter of radius 2 input
    pixels centred at 2i + 0.5, so the weights [1, 3, 3, 1] / 8 along each axis (renormalised
    where they fall off the edge)."""
    image = image.astype(np.float64)

    def along(axis, data):
        size = data.shape[axis] // 2
        out = np.zeros_like(np.take(data, range(size), axis=axis))
        for i in range(size):
            taps = [(2 * i - 1, 1), (2 * i, 3), (2 * i + 1, 3), (2 * i + 2, 1)]
            taps = [(j, w) for j, w in taps if 0 <= j < data.shape[axis]]
            total = sum(w for _, w in taps)
            value = sum(w * np.take(data, j, axis=axis) for j, w in taps) / total
            index = [slice(None)] * data.ndim
            index[axis] = i
            out[tuple(index)] = value
        return out

    return along(1, along(0, image))


def test_resized_frames_are_whole_values(tmp_path):
    folder = write_openface_folder(tmp_path, frames=1, ext="png")  # 112 px of noise
    image = read_frames([p for _, p in list_frames(folder)], 56)[0]
    direct = cv2.cvtColor(cv2.imread(str(next(folder.iterdir()))), cv2.COLOR_BGR2RGB)
    expected = np.round(halve_antialiased(direct))
    assert image.dtype == np.uint8  # whole 0-255 values, as a client sends them
    difference = np.abs(image.astype(np.float64) - expected)
    # Equal but where float rounding lands on .5 (a handful of pixels, by one).
    assert difference.max() <= 1 and (difference == 0).mean() > 0.99
    # Plain bilinear (no antialiasing) would differ by tens on noise: the test can tell.
    plain = cv2.resize(direct, (56, 56), interpolation=cv2.INTER_NEAREST).astype(np.float64)
    assert np.abs(plain - expected).mean() > 10


def test_read_frames_names_an_unreadable_file(tmp_path):
    bad = tmp_path / "frame_det_00_000001.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match=f"^{bad}: cannot decode this face image"):
        read_frames([bad], 32)
