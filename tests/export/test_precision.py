"""Exports of models built under a mixed policy: every runtime scores them, in float32."""

import numpy as np
import pytest
import tensorflow as tf

from depnet_tf import DepNetConfig, build_depnet
from depnet_tf.export import export_version, load_predictor
from depnet_tf.export.runner import Runner

CONFIG = DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=8)
CALIBRATION = {"alpha": 0.1, "n": 20, "q": 4.5}


@pytest.mark.parametrize(
    "precision, onnx",
    [("mixed_bfloat16", True), ("mixed_float16", False)],  # ONNX: ~30 s, once
)
def test_savedmodel_tflite_and_onnx_of_a_mixed_model(precision, onnx, tmp_path):
    if onnx:
        pytest.importorskip("tf2onnx")
    reference = build_depnet(CONFIG)  # float32, the same weights
    reference.get_layer("bdi_ii").bias.assign([20.0])
    model = build_depnet(CONFIG.replace(precision=precision))
    model.set_weights(reference.get_weights())
    written = export_version(
        model, tmp_path, tflite=("float32",), onnx=onnx, calibration=CALIBRATION
    )
    clips = np.random.default_rng(2).integers(0, 256, (4, 3, 32, 32, 3), dtype=np.uint8)
    mixed = model.predict(clips.astype("float32"), verbose=0)[:, 0]
    float32 = reference.predict(clips.astype("float32"), verbose=0)[:, 0]

    # The SavedModel keeps the policy (16-bit compute on a GPU) and float32 outputs.
    loaded = tf.saved_model.load(written["savedmodel"])
    outputs = loaded.signatures["serving_default"](frames=tf.constant(clips))
    for name in ("bdi_ii", "bdi_ii_lower", "bdi_ii_upper"):
        assert outputs[name].dtype == tf.float32, name
    np.testing.assert_allclose(outputs["bdi_ii"].numpy(), mixed, rtol=1e-6)
    np.testing.assert_allclose(
        outputs["bdi_ii_upper"].numpy(), np.clip(mixed + 4.5, 0, 63), rtol=1e-6
    )

    # TFLite and ONNX come from the float32 twin: the float32 model's scores.
    kinds = ["tflite-float32"] + (["onnx"] if onnx else [])
    for kind in kinds:
        runner = load_predictor(written[kind])
        assert isinstance(runner, Runner)
        scores, _ = runner(clips)
        assert scores.dtype == np.float32
        np.testing.assert_allclose(scores, float32, atol=1e-3, err_msg=kind)
        assert runner.calibration["q"] == 4.5
