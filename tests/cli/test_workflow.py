"""The README's AVEC workflow, each step its own `depnet` process, on real short videos at 64 px."""

import json
import os

import pandas as pd
import pytest
import yaml

from tests.cli.process import depnet, python
from tests.faces.videos import write_face_video

# Subjects 301-303 train, 304 is dev, 305 is test: no subject in two splits.
SESSIONS = {
    "Training": [("301", 5), ("302", 25), ("303", 45)],
    "Development": [("304", 15)],
    "Testing": [("305", 35)],
}
BACKBONE = """
import sys, keras, depnet_tf
keras.utils.set_random_seed(0)
depnet_tf.SENet50(input_shape=(64, 64, 3)).save_weights(sys.argv[1])
"""


def write_avec2014(root):
    """A tiny AVEC2014 layout of real MJPG videos (one task per session) and its labels."""
    videos, labels = root / "AVEC2014", root / "labels"
    for partition, sessions in SESSIONS.items():
        for subject, label in sessions:
            folder = videos / partition / "Freeform"
            folder.mkdir(parents=True, exist_ok=True)
            write_face_video(
                folder / f"{subject}_1_Freeform_video.avi",
                num_frames=8,
                size=(320, 240),
                seed=int(subject),
            )
            label_dir = labels / f"{partition}_DepressionLabels"
            label_dir.mkdir(parents=True, exist_ok=True)
            (label_dir / f"{subject}_1_Depression.csv").write_text(f"{label}\n")
    return videos, labels


@pytest.mark.large
def test_readme_workflow_as_separate_processes(tmp_path):
    videos, labels = write_avec2014(tmp_path)
    faces, manifest = tmp_path / "faces", tmp_path / "manifest.csv"

    result = depnet("faces", videos, "--out", faces, "--size", 64, "--detect-size", 160)
    assert result.returncode == 0, result.stderr
    assert "5 videos processed" in result.stdout

    result = depnet(
        "manifest", "avec2014", videos, "--labels", labels, "--faces", faces, "-o", manifest
    )
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(manifest)["split"].value_counts().to_dict() == {
        "train": 3,
        "dev": 1,
        "test": 1,
    }

    backbone = tmp_path / "backbone.weights.h5"
    python(BACKBONE, backbone)
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "arch": "depnet",
                "model": {
                    "num_frames": 3,
                    "image_size": 64,
                    "branch_filters": 2,
                    "hlf_channels": 4,
                    "fc_units": 8,
                    "backbone_weights": str(backbone),
                },
                "data": {
                    "manifest": str(manifest),
                    "cache": str(tmp_path / "cache"),
                    "clips_per_video": 4,
                    "eval_clips_per_video": 2,
                    "batch_size": 4,
                },
                "train": {"max_epochs": 2, "out_dir": str(tmp_path / "run")},
            }
        )
    )
    result = depnet("cache", manifest, "--out", tmp_path / "cache", "--config", config)
    assert result.returncode == 0, result.stderr
    assert "5 videos cached" in result.stdout

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
    assert scores["videos"] == 1 and scores["clips"] == 3

    result = depnet("export", model, "--out", tmp_path / "serving", "--tflite", "dynamic")
    assert result.returncode == 0, result.stderr
    version = tmp_path / "serving" / "depnet" / "1"
    assert (version / "saved_model.pb").is_file()

    test_video = next((videos / "Testing").rglob("*.avi"))
    scored = {}
    for source in (model, version, tmp_path / "serving" / "depnet-v1-dynamic.tflite"):
        result = depnet("predict", test_video, "--model", source, "--clips", 3, "--json")
        assert result.returncode == 0, result.stderr
        scored[str(source)] = json.loads(result.stdout)["bdi_ii"]
    keras_score, served, lite = scored.values()
    assert served == pytest.approx(keras_score, abs=1e-3)
    assert lite == pytest.approx(keras_score, abs=0.5)  # dynamic-range int8 weights
