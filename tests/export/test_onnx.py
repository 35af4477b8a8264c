import json
import os

import numpy as np
import pytest

from depnet_tf.cli.main import main
from depnet_tf.export import OnnxRunner, load_predictor

pytest.importorskip("tf2onnx")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def onnx_file(small_model, tmp_path_factory):
    """`depnet export --onnx`, run once for the module: ONNX conversion takes ~30 s."""
    _, keras_path = small_model
    out = tmp_path_factory.mktemp("onnx")
    assert main(["export", str(keras_path), "--out", str(out), "--onnx"]) == 0
    return str(out / "depnet-v1.onnx")


@pytest.mark.large
def test_onnxruntime_agrees_with_keras(small_model, onnx_file):
    model, _ = small_model
    runner = load_predictor(onnx_file)
    assert isinstance(runner, OnnxRunner) and (runner.num_frames, runner.image_size) == (3, 32)
    clips = np.random.default_rng(2).integers(0, 256, (4, 3, 32, 32, 3), dtype=np.uint8)
    scores, bands = runner(clips)
    expected = model.predict(clips.astype("float32"), verbose=0)[:, 0]
    np.testing.assert_allclose(scores, expected, atol=1e-3)
    assert scores.dtype == np.float32 and bands.dtype == np.int32
    sidecar = json.loads(open(f"{onnx_file}.json").read())
    assert sidecar["format"] == "onnx" and sidecar["inputs"]["frames"]["dtype"] == "uint8"
    assert not [n for n in os.listdir(os.path.dirname(onnx_file)) if n.startswith(".tmp-")]


@pytest.mark.large
def test_onnx_refuses_a_wrong_clip_shape(onnx_file):
    with pytest.raises(
        ValueError, match=r"takes clips of shape \(K, 3, 32, 32, 3\); got \(1, 5, 32, 32, 3\)"
    ):
        OnnxRunner(onnx_file)(np.zeros((1, 5, 32, 32, 3), np.uint8))


def test_onnx_file_must_exist(tmp_path):
    with pytest.raises(ValueError, match="no such .onnx file"):
        load_predictor(str(tmp_path / "missing.onnx"))


def test_two_gigabyte_limit_is_explained():
    from depnet_tf.export.onnx import check_protobuf_size

    with pytest.raises(ValueError, match="over the 2 GB protobuf limit.*fc_units"):
        check_protobuf_size(600_000_000)
    check_protobuf_size(128_859_825)  # the default DepNet fits


def test_conversion_memory_is_checked_first():
    from depnet_tf.export.onnx import check_conversion_memory

    with pytest.raises(
        ValueError, match=r"needs about 34 GB .*128,859,825 weights.*16 GB is available"
    ):
        check_conversion_memory(128_859_825, available=16 * 2**30)
    check_conversion_memory(1_000_000, available=16 * 2**30)
