"""`depnet calibrate` stores an interval with a model; predict and export then carry it."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from tests.cli.process import depnet, python
from tests.training.workspace import write_frames

SAVE_MODEL = """
import sys, depnet_tf as d
model = d.build_depnet(d.DepNetConfig(num_frames=3, image_size=32, branch_filters=2,
                                      hlf_channels=4, fc_units=8))
model.get_layer("bdi_ii").bias.assign([20.0])
model.save(sys.argv[1])
from depnet_tf.models.regressor import weights_hash
print(weights_hash(model))  # the digest its predictions carry
"""
SIGNATURE = """
import sys, json, numpy as np, tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
out = serve(frames=tf.constant(np.full((2, 3, 32, 32, 3), 128, np.uint8)))
print(json.dumps({k: v.numpy().tolist() for k, v in out.items()}))
"""


@pytest.mark.large
def test_calibrate_then_predict_and_export(tmp_path):
    model = tmp_path / "m.keras"
    digest = python(SAVE_MODEL, model).stdout.strip()
    write_frames(str(tmp_path), videos=1, frames=6)
    frames = tmp_path / "v0_aligned"

    result = depnet("predict", frames, "--model", model, "--clips", 2)
    assert result.returncode == 0, result.stderr
    assert "no prediction interval: the model is not calibrated" in result.stdout

    residuals = np.array([1.0, -2.0, 3.0, -4.0, 5.0, -6.0, 7.0, -8.0, 9.0, -10.0])
    dev = pd.DataFrame(
        {"video_id": [f"d{i}" for i in range(10)], "label": 30.0, "prediction": 30.0 + residuals}
    )
    # Residuals chosen here (so q is known), stamped as this model's predictions.
    dev["model_sha256"] = digest
    dev.to_csv(tmp_path / "dev.csv", index=False)
    result = depnet("calibrate", model, tmp_path / "dev.csv")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    q = np.sort(np.abs(residuals))[math.ceil(11 * 0.9) - 1]
    assert record["q"] == q == 10.0 and record["alpha"] == 0.1

    result = depnet("predict", frames, "--model", model, "--clips", 2, "--json")
    keras_result = json.loads(result.stdout)
    interval = keras_result["interval"]
    score = keras_result["bdi_ii"]
    assert interval["lower"] == pytest.approx(max(0.0, score - q))
    assert interval["upper"] == pytest.approx(min(63.0, score + q))

    result = depnet("export", model, "--out", tmp_path / "serving", "--tflite", "float32")
    assert result.returncode == 0, result.stderr
    assert "90% prediction interval: +- 10.00" in result.stdout
    version = tmp_path / "serving" / "depnet" / "1"
    outputs = json.loads(python(SIGNATURE, version).stdout)
    assert set(outputs) == {"bdi_ii", "severity", "bdi_ii_lower", "bdi_ii_upper"}
    assert np.allclose(outputs["bdi_ii_upper"], np.minimum(np.array(outputs["bdi_ii"]) + q, 63))
    sidecar = json.loads((tmp_path / "serving" / "depnet-v1-float32.tflite.json").read_text())
    assert sidecar["calibration"]["q"] == q
    for source in (version, tmp_path / "serving" / "depnet-v1-float32.tflite"):
        result = depnet("predict", frames, "--model", source, "--clips", 2)
        assert result.returncode == 0, result.stderr
        assert "90% prediction interval" in result.stdout and "+- 10.0" in result.stdout


def test_too_few_calibration_videos_say_unbounded(tmp_path):
    model = tmp_path / "m.keras"
    digest = python(SAVE_MODEL, model).stdout.strip()
    dev = pd.DataFrame({"video_id": ["a", "b"], "label": [1.0, 2.0], "prediction": [2.0, 2.0]})
    dev.to_csv(tmp_path / "unstamped.csv", index=False)
    result = depnet("calibrate", model, tmp_path / "unstamped.csv")
    assert result.returncode == 2 and "does not say which model made" in result.stderr
    dev["model_sha256"] = digest
    dev.to_csv(tmp_path / "dev.csv", index=False)
    result = depnet("calibrate", model, tmp_path / "dev.csv")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["q"] is None and "unbounded" in record["description"]
