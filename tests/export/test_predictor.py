import json
import os

import cv2
import numpy as np
import pytest

from depnet_tf.cli.main import main
from depnet_tf.export import export_tflite, load_predictor, predict_path, signature_metadata
from tests.faces.videos import write_blank_video


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip") / "v_aligned"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for frame in range(1, 9):
        cv2.imwrite(
            str(folder / f"frame_det_00_{frame:06d}.png"),
            rng.integers(0, 256, (48, 48, 3), dtype=np.uint8),
        )
    return folder


def test_keras_savedmodel_and_tflite_agree(small_model, exported, frames_dir, tmp_path):
    model, keras_path = small_model
    _, target = exported
    tflite = export_tflite(
        model, target, str(tmp_path / "m.tflite"), "float32", signature_metadata(model)
    )
    results = [
        predict_path(frames_dir, load_predictor(p), clips=4)
        for p in (str(keras_path), target, tflite)
    ]
    for result in results[1:]:
        assert result["bdi_ii"] == pytest.approx(results[0]["bdi_ii"], abs=0.01)
    assert results[0]["clips"] == 4 and results[0]["frames_used"] == 8


def test_predict_command_json(small_model, frames_dir, capsys):
    _, keras_path = small_model
    assert (
        main(["predict", str(frames_dir), "--model", str(keras_path), "--clips", "3", "--json"])
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert len(result["clip_scores"]) == 3 and result["severity_name"] in (
        "none/minimal",
        "mild",
        "moderate",
        "severe",
    )


def test_predict_errors(small_model, exported, tmp_path, capsys):
    model, keras_path = small_model
    _, target = exported
    blank = write_blank_video(tmp_path / "blank.avi")
    assert main(["predict", str(blank), "--model", str(keras_path)]) == 2
    assert "no face found" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), "--model", str(tmp_path / "nope.keras")]) == 2
    assert "no such model file" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), "--model", str(tmp_path)]) == 2
    assert "not a SavedModel folder" in capsys.readouterr().err


def test_export_command(small_model, tmp_path, capsys):
    _, keras_path = small_model
    out = tmp_path / "serving"
    assert (
        main(
            ["export", str(keras_path), "--out", str(out), "--version", "3", "--tflite", "dynamic"]
        )
        == 0
    )
    assert os.path.isfile(out / "depnet" / "3" / "saved_model.pb")
    assert os.path.isfile(out / "depnet-v3-dynamic.tflite")
    assert main(["export", str(keras_path), "--out", str(out), "--version", "3"]) == 2
    assert "--force" in capsys.readouterr().err
