"""`depnet experiment`: a 2 architectures x 2 seeds grid as separate processes, on real videos."""

import json
import os

import numpy as np
import pandas as pd
import pytest
import yaml

from depnet_tf.evaluation.tables import dataset_of, results_table
from depnet_tf.training.experiment import read_grid
from tests.cli.process import depnet, one_error_line

GRID = {
    "base": "base.yaml",
    "set": {"train.max_epochs": 1, "train.deterministic": True},
    "grid": {"arch": ["depnet", "senet-single"], "data.seed": [0, 1]},
}


def write_grid(root, manifest):
    base = {
        "model": {
            "num_frames": 3,
            "image_size": 32,
            "branch_filters": 2,
            "hlf_channels": 4,
            "fc_units": 8,
        },  # no backbone weights: a random backbone, saved once
        "data": {
            "manifest": str(manifest),
            "clips_per_video": 2,
            "eval_clips_per_video": 2,
            "batch_size": 4,
        },
    }
    (root / "base.yaml").write_text(yaml.safe_dump(base))
    (root / "grid.yaml").write_text(yaml.safe_dump(GRID))
    return root / "grid.yaml"


@pytest.mark.large
def test_grid_runs_resumes_and_collects(avec_dataset, tmp_path):
    _, _, manifest = avec_dataset
    grid = write_grid(tmp_path, manifest)
    out = tmp_path / "out"
    result = depnet("experiment", grid, "--out", out)
    assert result.returncode == 0, result.stderr
    results = pd.read_csv(out / "results.csv")
    assert list(results.columns) == [
        "arch",
        "data.seed",
        "rmse",
        "mae",
        "clip_rmse",
        "clip_mae",
        "videos",
        "iterations",
        "seconds",
    ]
    assert len(results) == 4 and np.isfinite(results[["rmse", "mae"]].to_numpy()).all()
    assert (results["videos"] == 2).all()
    tables = (out / "tables.md").read_text()
    assert "| Deep Architecture | RMSE | MAE | cells |" in tables
    assert "| DepNet (SENet-based) |" in tables and "| SENet |" in tables
    assert "9.03" in tables and "9.17" in tables  # the paper's figures beside ours
    assert "RANDOMLY INITIALISED" in tables
    assert sorted(os.listdir(out / "backbones")) == [
        "senet50-vggface-32px.weights.h5",
        "senet50-vggface-32px.weights.h5.json",
    ]
    assert len(os.listdir(out / "caches")) == 1  # DepNet's; SENet single trains on frames

    stamps = {
        p: os.path.getmtime(out / p / "result.json")
        for p in os.listdir(out)
        if (out / p / "result.json").exists()
    }
    again = depnet("experiment", grid, "--out", out)
    assert again.returncode == 0, again.stderr
    assert "training" not in again.stderr
    assert stamps == {p: os.path.getmtime(out / p / "result.json") for p in stamps}

    listed = depnet("experiment", grid, "--out", tmp_path / "fanned", "--list")
    assert listed.stdout.count("\ttodo\t") == 4
    for index in range(4):
        ran = depnet("experiment", grid, "--out", tmp_path / "fanned", "--only", index)
        assert ran.returncode == 0, ran.stderr
    collected = depnet("experiment", grid, "--out", tmp_path / "fanned", "--collect")
    assert collected.returncode == 0, collected.stderr
    fanned = (tmp_path / "fanned" / "tables.md").read_text()
    assert fanned.replace(str(tmp_path / "fanned"), str(out)) == tables


def test_bad_grids_are_one_line(tmp_path):
    (tmp_path / "base.yaml").write_text("data: {manifest: m.csv}\n")
    cases = {
        "grid: {arch: [depnet]}\n": "'base' must name",
        "base: base.yaml\n": "'grid' must map at least one",
        "base: base.yaml\ngrid: {arch: []}\n": "grid axis 'arch' must be a non-empty list",
        "base: base.yaml\ngrid: {arch: [vgg]}\n": "'arch' must be one of",
        "base: base.yaml\ngrid: {train.max_epochs: [0]}\n": "'train.max_epochs' must be",
        "base: nowhere.yaml\ngrid: {arch: [depnet]}\n": "found neither beside the grid",
        "base: base.yaml\ngird: {arch: [depnet]}\n": "unknown grid keys ['gird']",
    }
    for text, expected in cases.items():
        (tmp_path / "g.yaml").write_text(text)
        line = one_error_line(
            depnet("experiment", tmp_path / "g.yaml", "--out", tmp_path / "o", "--list"),
            "experiment",
        )
        assert expected in line and str(tmp_path / "g.yaml") in line


def test_cells_and_tables_in_process(tmp_path):
    (tmp_path / "base.yaml").write_text("data: {manifest: data/avec2013/manifest.csv}\n")
    (tmp_path / "g.yaml").write_text(
        yaml.safe_dump(
            {
                "base": "base.yaml",
                "grid": {
                    "arch": ["resnet50-single", "depnet"],
                    "data.seed": [0, 1],
                    "model.fc_units": [8],
                },
            }
        )
    )
    grid = read_grid(tmp_path / "g.yaml")
    names = [cell.name for cell in grid.cells()]
    assert names[0] == "000_arch-resnet50-single_data.seed-0_model.fc_units-8" and len(names) == 4
    results = pd.DataFrame(
        {
            "arch": ["resnet50-single"] * 2 + ["depnet"] * 2,
            "data.seed": [0, 1, 0, 1],
            "model.fc_units": [8] * 4,
            "rmse": [10.0, 12.0, 9.0, 9.0],
            "mae": [8.0, 8.0, 7.0, 7.5],
        }
    )
    assert dataset_of("data/avec2013/manifest.csv") == "avec2013"
    text = results_table(results, list(grid.axes), "avec2013")
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    # Paper order: DepNet before ResNet-50 (single image); mean +- sample sd over seeds.
    assert lines[1] == "| DepNet (SENet-based) | 9.00 +- 0.00 | 7.25 +- 0.35 | 2 | 9.17 | 7.36 |"
    assert lines[2].startswith("| ResNet-50 (single image) | 11.00 +- 1.41 | 8.00 +- 0.00 | 2 |")
    assert "model.fc_units=8" in text
    assert json.dumps(grid.axes)


@pytest.mark.parametrize("dataset", ["avec2013", "avec2014"])
def test_the_repository_grids_start_from_shipped_configs(dataset):
    from depnet_tf import configs

    grid = read_grid(f"training/grids/{dataset}-tables.yaml")
    assert grid.base_path == configs.path(dataset)
    assert len(grid.cells()) == 12  # four architectures x three seeds
