"""The model card `depnet export` writes beside each version (Mitchell et al., 2019 sections)."""

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from depnet_tf.errors import DataError
from depnet_tf.evaluation.conformal import calibrate, write_calibration
from depnet_tf.evaluation.report import build_report
from depnet_tf.export.model_card import SECTIONS, build_card, render_markdown, report_record
from tests.cli.process import depnet, one_error_line


@pytest.fixture(scope="module")
def run_folder(small_model, tmp_path_factory):
    """A training run as `depnet train` leaves it: model.keras, config.yaml and its manifest."""
    _, model_path = small_model
    folder = tmp_path_factory.mktemp("run")
    shutil.copy(model_path, folder / "model.keras")
    rows = [
        {"video_id": f"v{i}", "frames": "x", "label": 3 * i, "split": s, "subject": f"s{i}"}
        for i, s in enumerate(["train"] * 6 + ["dev"] * 3 + ["test"] * 3)
    ]
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    config = {
        "arch": "depnet",
        "data": {"manifest": str(folder / "manifest.csv"), "train_split": "train", "seed": 1},
        "train": {"base_lr": 1e-4, "max_epochs": 3},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    dev = np.arange(20.0)
    write_calibration(folder / "model.keras", calibrate(dev, dev + np.linspace(-4, 4, 20)))
    rng = np.random.default_rng(0)
    labels = rng.uniform(0, 40, 12)
    table = pd.DataFrame(
        {"video_id": [f"t{i}" for i in range(12)], "label": labels, "prediction": labels + 2}
    )
    report = build_report({"depnet": table}, resamples=200)
    (folder / "report.json").write_text(json.dumps(report, default=float))
    return folder


def test_export_writes_a_card_with_every_section(run_folder, tmp_path):
    result = depnet(
        "export",
        run_folder / "model.keras",
        "--out",
        tmp_path,
        "--report",
        run_folder / "report.json",
        "--no-warmup",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    markdown = (tmp_path / "depnet-v1.model_card.md").read_text()
    card = json.loads((tmp_path / "depnet-v1.model_card.json").read_text())
    inside = json.loads(
        (tmp_path / "depnet" / "1" / "assets.extra" / "model_card.json").read_text()
    )
    assert inside == card
    assert f"model card: {tmp_path / 'depnet-v1.model_card.md'}" in result.stdout
    for title in SECTIONS:
        assert f"\n## {title}\n" in markdown
    assert "(depnet)" in markdown.splitlines()[0] and "Not a medical device" in markdown
    manifest_hash = hashlib.sha256((run_folder / "manifest.csv").read_bytes()).hexdigest()
    assert card["training_data"]["manifest_sha256"] == manifest_hash and manifest_hash in markdown
    assert card["training_data"]["videos_per_split"] == {"train": 6, "dev": 3, "test": 3}
    assert card["model_details"]["architecture"] == "depnet"
    assert "CC BY-SA 4.0" in card["model_details"]["licence"]
    assert card["quantitative_analyses"]["mae"] == pytest.approx(2.0)
    assert card["evaluation_data"]["ci95"]["rmse"]
    interval = json.loads((run_folder / "model.keras.calibration.json").read_text())
    assert interval["q"] is not None and card["metrics"]["prediction_interval"] == interval
    assert card["model_details"]["versions"]["tensorflow"]


def test_a_card_without_a_run_or_report_says_so(small_model):
    model, _ = small_model
    card = build_card(model)
    assert card["training_data"] == card["evaluation_data"] == "not recorded"
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
