import json
import os

import numpy as np
import pytest

from depnet_tf.export import LiteRTRunner, export_tflite, signature_metadata
from depnet_tf.export.tflite import check_flatbuffer_size


@pytest.mark.parametrize("quantization, tolerance", [("float32", 0.01), ("dynamic", 0.5)])
def test_litert_agrees_with_keras(small_model, exported, tmp_path, quantization, tolerance):
    model, _ = small_model
    _, target = exported
    path = export_tflite(
        model,
        target,
        str(tmp_path / f"m-{quantization}.tflite"),
        quantization,
        signature_metadata(model),
    )
    sidecar = json.loads(open(f"{path}.json").read())
    assert sidecar["inputs"]["frames"]["dtype"] == "uint8" and sidecar["num_frames"] == 3
    assert [band["max_score"] for band in sidecar["severity_bands"]] == [13, 19, 28, 63]
    runner = LiteRTRunner(path)
    clips = np.random.default_rng(1).integers(0, 256, (4, 3, 32, 32, 3), dtype=np.uint8)
    scores, _ = runner(clips)
    expected = model.predict(clips.astype("float32"), verbose=0)[:, 0]
    difference = float(np.abs(scores - expected).max())
    print(f"{quantization}: max |TFLite - Keras| = {difference:.5f} BDI points")
    assert difference <= tolerance


def test_two_gigabyte_limit_is_explained():
    with pytest.raises(ValueError, match="over the 2 GB flatbuffer limit.*fc_units"):
        check_flatbuffer_size(600_000_000, "float32")
    check_flatbuffer_size(600_000_000, "dynamic")


def test_mismatched_clip_shape(small_model, exported, tmp_path):
    model, _ = small_model
    _, target = exported
    path = export_tflite(
        model, target, str(tmp_path / "m.tflite"), "float32", signature_metadata(model)
    )
    with pytest.raises(
        ValueError, match=r"takes clips of shape \(K, 3, 32, 32, 3\); got \(1, 5, 32, 32, 3\)"
    ):
        LiteRTRunner(path)(np.zeros((1, 5, 32, 32, 3), np.uint8))
    assert os.path.getsize(path) > 0
