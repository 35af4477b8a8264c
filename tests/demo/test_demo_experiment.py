"""The demo's own output as an experiment's base: all four architectures, no other preparation."""

import json

import pandas as pd
import pytest
import yaml

from tests.cli.process import depnet


@pytest.mark.large
def test_grid_over_the_demo_config(tmp_path):
    result = depnet(
        "demo",
        "--out",
        "demo_out",
        "--videos",
        8,
        "--frames",
        8,
        "--epochs",
        1,
        "--image-size",
        32,
        "--backbone-weights",
        "random",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    demo = json.loads((tmp_path / "demo_out" / "report.json").read_text())
    assert demo["n_dev_videos"] == 2 and (tmp_path / "demo_out" / "report" / "index.html").is_file()
    # Two dev videos are too few for a bounded 90% interval, and the demo says so.
    assert demo["statistics"]["conformal"]["q"] is None
    assert "unbounded" in demo["prediction"]["interval_note"]
    assert "prediction interval unbounded" in result.stdout
    (tmp_path / "grid.yaml").write_text(
        yaml.safe_dump(
            {
                "base": "demo_out/run/config.yaml",
                "set": {"train.max_epochs": 1, "data.clips_per_video": 2},
                "grid": {
                    "arch": ["depnet", "senet-single", "resnet50-single", "resnet50-sequence"]
                },
            }
        )
    )
    result = depnet("experiment", "grid.yaml", "--out", "experiment", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    results = pd.read_csv(tmp_path / "experiment" / "results.csv")
    assert results["arch"].tolist() == [
        "depnet",
        "senet-single",
        "resnet50-single",
        "resnet50-sequence",
    ]
    assert results["rmse"].notna().all() and (results["videos"] == 2).all()
    tables = (tmp_path / "experiment" / "tables.md").read_text()
    assert "RANDOMLY INITIALISED" in tables and "demo_out/backbone.weights.h5" in tables
    assert "| ResNet-50 (image sequence) |" in tables
