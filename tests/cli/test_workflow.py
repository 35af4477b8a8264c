"""The README's AVEC workflow, each step its own `depnet` process, on real short videos."""

import json
import os

import pandas as pd
import pytest

from tests.cli.dataset import write_config
from tests.cli.process import depnet


@pytest.mark.large
def test_readme_workflow_as_separate_processes(avec_dataset, tmp_path):
    _, videos, manifest = avec_dataset
    config = write_config(tmp_path / "config.yaml", manifest, 32)
    result = depnet("cache", manifest, "--out", tmp_path / "cache-senet50", "--config", config)
    assert result.returncode == 0, result.stderr
    assert "6 videos cached" in result.stdout

    result = depnet("train", "--config", config)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # the summary is all there is on stdout
    model = summary["model"]
    assert summary["epochs"] == 2 and os.path.isfile(model)

    result = depnet(
        "evaluate",
        model,
        manifest,
        "--split",
        "test",
        "--clips",
        3,
        "--json",
        "-o",
        tmp_path / "test.csv",
    )
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["videos"] == 2 and scores["clips"] == 6
    assert scores["conventions"]["per_session"]["n"] == 1

    result = depnet("export", model, "--out", tmp_path / "serving", "--tflite", "dynamic")
    assert result.returncode == 0, result.stderr
    version = tmp_path / "serving" / "depnet" / "1"
    assert (version / "saved_model.pb").is_file()

    test_video = next((videos / "Testing").rglob("*.avi"))
    scored = {}
    for source in (model, version, tmp_path / "serving" / "depnet-v1-dynamic.tflite"):
        # The faces of the data set were detected at 160 px (tests.cli.dataset); the
        # model recorded it, and predict extracts the video's faces the same way.
        result = depnet("predict", test_video, "--model", source, "--clips", 3, "--json")
        assert result.returncode == 0, result.stderr
        scored[str(source)] = json.loads(result.stdout)["bdi_ii"]
    keras_score, served, lite = scored.values()
    # The video file through predict's face extraction scores as its extracted
    # frames did in evaluate: train, evaluate and serve see the same crops.
    table = pd.read_csv(tmp_path / "test.csv").set_index("video_id")["prediction"]
    evaluated = table[next(v for v in table.index if test_video.stem.startswith(v))]
    assert keras_score == pytest.approx(evaluated, abs=1e-4)
    assert served == pytest.approx(keras_score, abs=1e-3)
    assert lite == pytest.approx(keras_score, abs=0.5)  # dynamic-range int8 weights
