"""The model card `depnet export` writes beside each version (Mitchell et al., 2019 sections)."""

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from depnet_tf.errors import DataError
from depnet_tf.evaluation.report import build_report
from depnet_tf.export.model_card import SECTIONS, build_card, render_markdown, report_record
from tests.cli.process import depnet, one_error_line
from tests.training.workspace import make_workspace


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A real run: `depnet train`, `evaluate` and `calibrate` as processes, on a workspace
    whose seeded random backbone is marked random, as `depnet experiment` marks one."""
    root = tmp_path_factory.mktemp("run")
    config = make_workspace(str(root), max_epochs=1)
    (root / "backbone.weights.h5.json").write_text(json.dumps({"initialisation": "random"}))
    result = depnet("train", "--config", config)
    assert result.returncode == 0, result.stderr[-2000:]
    folder = root / "run"
    manifest = root / "manifest.csv"
    result = depnet(
        "evaluate", folder / "model.keras", manifest, "--split", "dev", "-o", root / "dev.csv"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    result = depnet("calibrate", folder / "model.keras", root / "dev.csv", "--alpha", "0.5")
    assert result.returncode == 0, result.stderr[-2000:]
    rng = np.random.default_rng(0)
    labels = rng.uniform(0, 40, 12)
    table = pd.DataFrame(
        {"video_id": [f"t{i}" for i in range(12)], "label": labels, "prediction": labels + 2}
    )
    report = build_report({"depnet": table}, resamples=200)
    (folder / "report.json").write_text(json.dumps(report, default=float))
    return folder


def test_export_writes_a_card_with_every_section(run_folder, tmp_path):
    manifest = run_folder.parent / "manifest.csv"
    # What the manifest was when the model trained, hashed here, independently.
    trained_on = hashlib.sha256(manifest.read_bytes()).hexdigest()
    changed = tmp_path / "changed"
    shutil.copytree(run_folder.parent, changed)  # the run handed on, its manifest edited since
    with open(changed / "manifest.csv", "a") as file:
        file.write("extra,x,1,train,s99\n")
    elsewhere = tmp_path / "elsewhere"  # exported from another folder, by a relative path
    elsewhere.mkdir()
    result = depnet(
        "export",
        "../changed/run/model.keras",
        "--out",
        "serve",
        "--report",
        changed / "run" / "report.json",
        "--no-warmup",
        cwd=elsewhere,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = elsewhere / "serve"
    markdown = (out / "depnet-v1.model_card.md").read_text()
    card = json.loads((out / "depnet-v1.model_card.json").read_text())
    inside = json.loads((out / "depnet" / "1" / "assets.extra" / "model_card.json").read_text())
    assert inside == card
    for title in SECTIONS:
        assert f"\n## {title}\n" in markdown
    assert "(depnet)" in markdown.splitlines()[0] and "Not a medical device" in markdown
    data = card["training_data"]["data"]
    assert data["manifest_sha256"] == trained_on and trained_on in markdown
    assert data["videos_per_split"] == {"train": 4, "dev": 2}  # as trained, not as edited
    assert card["training_data"]["train"]["max_epochs"] == 1  # config.yaml, digest checked
    backbone = card["model_details"]["backbone"]
    assert backbone["source"] == "RANDOM" and backbone["random"] is True
    assert "randomly initialised" in card["model_details"]["licence"]
    assert "CC BY-SA" not in markdown
    assert card["quantitative_analyses"]["mae"] == pytest.approx(2.0)
    assert card["evaluation_data"]["ci95"]["rmse"]
    interval = json.loads((run_folder / "model.keras.calibration.json").read_text())
    assert card["metrics"]["prediction_interval"] == interval
    assert card["model_details"]["versions"]["tensorflow"]


def test_a_card_without_a_run_or_report_says_so(small_model):
    model, _ = small_model
    card = build_card(model)
    assert card["training_data"] == card["evaluation_data"] == "not recorded"
    assert card["model_details"]["backbone"]["description"].startswith("from the configuration")
    assert card["metrics"]["prediction_interval"] == "not recorded"
    assert "## Training data\n\nnot recorded" in render_markdown(card)


def test_bad_reports_are_one_line_errors(run_folder, tmp_path):
    report = json.loads((run_folder / "report.json").read_text())
    report["models"]["other"] = report["models"]["depnet"]
    two = tmp_path / "two.json"
    two.write_text(json.dumps(report))
    with pytest.raises(DataError, match=r"holds 2 models \['depnet', 'other'\]; name the"):
        report_record(two)
    with pytest.raises(DataError, match="no model 'x'"):
        report_record(two, "x")
    assert report_record(two, "other")["model"] == "other"
    result = depnet("export", run_folder / "model.keras", "--out", tmp_path, "--report", two)
    line = one_error_line(result, "export")
    assert str(two) in line and "--report-model" in line
