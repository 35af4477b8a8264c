"""Every number traceable to what made it, each link as users meet it: `depnet` processes.

Numbered as the breaks were reported: stale prediction intervals (1), a restart
with another config (2), outputs taken as done although their settings changed
(3), serving seeing other pixels than training (4), the model card (6, in
`tests/export/test_model_card.py`). Early stopping's restored weights (5) are
checked against their loss in `tests/training/test_early_stopping.py`.
"""

import json
import os
import shutil
import signal
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from tests.cli.dataset import prepare, write_config
from tests.cli.process import depnet, one_error_line
from tests.training.workspace import make_workspace


def _ok(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small run trained by `depnet train`, evaluated on dev and calibrated."""
    root = tmp_path_factory.mktemp("trained")
    config = make_workspace(str(root), max_epochs=1)
    summary = json.loads(_ok(depnet("train", "--config", config)).stdout)
    dev = root / "dev.csv"
    model = summary["model"]
    _ok(depnet("evaluate", model, root / "manifest.csv", "--split", "dev", "-o", dev))
    _ok(depnet("calibrate", model, dev, "--alpha", "0.5"))
    return root, config, summary


# 1. Stale prediction intervals.
def test_a_retrained_model_never_serves_the_old_interval(trained, tmp_path):
    root, config, summary = trained
    work = tmp_path / "work"
    shutil.copytree(root, work)
    config = work / "config.yaml"
    values = yaml.safe_load(config.read_text())
    values["train"]["out_dir"] = str(work / "run")
    values["data"]["manifest"] = str(work / "manifest.csv")
    values["data"]["cache"] = str(work / "cache")
    values["model"]["backbone_weights"] = str(work / "backbone.weights.h5")
    config.write_text(yaml.safe_dump(values))
    model = work / "run" / "model.keras"
    calibration = work / "run" / "model.keras.calibration.json"
    old_calibration = calibration.read_text()
    old_dev = work / "dev.csv"  # the old model's dev predictions
    # Retrain into the same folder, with another seed: other weights.
    again = json.loads(_ok(depnet("train", "--config", config, "--set", "data.seed=7")).stdout)
    assert again["weights_sha256"] != summary["weights_sha256"]
    assert not calibration.exists()  # the retrained run removed the stale interval
    frames = work / "v0_aligned"
    result = json.loads(_ok(depnet("predict", frames, "--model", model, "--json")).stdout)
    assert result["interval"] is None and result["model_sha256"] == again["weights_sha256"]
    # The old record put back by hand: predict and export refuse it, naming both digests.
    calibration.write_text(old_calibration)
    for command in (("predict", frames, "--model", model), ("export", model, "--out", work / "s")):
        line = one_error_line(depnet(*command), command[0])
        assert str(calibration) in line, line
        assert summary["weights_sha256"] in line and again["weights_sha256"] in line, line
    # calibrate refuses another model's predictions, and so does report.
    line = one_error_line(depnet("calibrate", model, old_dev), "calibrate")
    assert str(old_dev) in line and summary["weights_sha256"] in line, line
    new_dev = work / "new_dev.csv"
    _ok(depnet("evaluate", model, work / "manifest.csv", "--split", "dev", "-o", new_dev))
    result = depnet("report", new_dev, "--calibration", old_dev, "--out", work / "report")
    line = one_error_line(result, "report")
    assert str(old_dev) in line and "a model's calibration must be its own" in line, line


# 2. A restart with another config.
KILL_AFTER_FIRST_BACKUP = """
import os, signal, sys
import depnet_tf.training.resume as resume
from depnet_tf.cli.main import main

original = resume.AtomicBackupAndRestore.on_epoch_end

def on_epoch_end(self, epoch, logs=None):
    original(self, epoch, logs)
    os.kill(os.getpid(), signal.SIGKILL)  # killed right after the first backup

resume.AtomicBackupAndRestore.on_epoch_end = on_epoch_end
sys.exit(main(["train", "--config", sys.argv[1]]))
"""


def test_a_killed_run_resumes_only_with_its_own_config(tmp_path):
    config = make_workspace(str(tmp_path), max_epochs=3)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_BACKUP, config],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    other = tmp_path / "other.yaml"
    values = yaml.safe_load(open(config))
    values["data"]["seed"] = 2
    other.write_text(yaml.safe_dump(values))
    line = one_error_line(depnet("train", "--config", other), "train")
    assert f"{tmp_path / 'run'}: holds a killed run of another config" in line, line
    assert "--restart" in line, line
    # The same config resumes it; then another config with --restart starts over.
    resumed = json.loads(_ok(depnet("train", "--config", config)).stdout)
    assert resumed["epochs"] == 2  # epochs 1 and 2: epoch 0 came from the backup
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert list(history["epoch"]) == [0, 1, 2]
    restarted = json.loads(_ok(depnet("train", "--config", other, "--restart")).stdout)
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert list(history["epoch"]) == [0, 1, 2]  # the new run's epochs only
    written = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert written["data"]["seed"] == 2 and restarted["config_sha256"] != resumed["config_sha256"]


# 3. Outputs taken as done although their settings changed.
def test_faces_and_cache_redo_what_other_settings_made(tmp_path):
    videos, manifest = prepare(tmp_path, 32)
    config = write_config(tmp_path / "config.yaml", manifest, 32)
    _ok(depnet("cache", manifest, "--out", tmp_path / "cache-senet50", "--config", config))
    # The faces again, at another crop size: redone, and said so.
    result = _ok(
        depnet("faces", videos, "--out", tmp_path / "faces", "--size", 48, "--detect-size", 160)
    )
    assert "6 videos processed" in result.stdout and "6 redone with new settings" in result.stdout
    assert "its faces were made with other settings (size 32 -> 48)" in result.stderr
    # The cache was computed from the old crops: train refuses it, naming the entry.
    line = one_error_line(depnet("train", "--config", config), "train")
    assert "cache-senet50" in line and "computed from other frames" in line, line
    result = _ok(depnet("cache", manifest, "--out", tmp_path / "cache-senet50", "--config", config))
    assert "re-caching" in result.stderr and "computed from other frames" in result.stderr
    _ok(depnet("train", "--config", config))


# 4. predict on a video equals evaluate on the frames `faces` made of it.
@pytest.fixture(scope="module")
def faces_224(tmp_path_factory):
    root = tmp_path_factory.mktemp("faces224")
    return root, *prepare(root, 224)


@pytest.mark.large
@pytest.mark.parametrize("face_size, model_size", [(224, 64), (224, 112), (64, 64)])
def test_predict_on_a_video_scores_as_evaluate_on_its_faces(
    faces_224, tmp_path_factory, face_size, model_size
):
    if face_size == 224:
        root, videos, manifest = faces_224
        work = tmp_path_factory.mktemp(f"m{model_size}")
    else:
        work = tmp_path_factory.mktemp(f"f{face_size}")
        videos, manifest = prepare(work, face_size)
    config = write_config(work / "config.yaml", manifest, model_size, train={"max_epochs": 1})
    _ok(depnet("cache", manifest, "--out", work / "cache-senet50", "--config", config))
    model = json.loads(_ok(depnet("train", "--config", config)).stdout)["model"]
    csv = work / "test.csv"
    _ok(depnet("evaluate", model, manifest, "--split", "test", "--clips", 3, "-o", csv))
    table = pd.read_csv(csv).set_index("video_id")["prediction"]
    video = next((videos / "Testing").rglob("*.avi"))
    # No face flag: predict redoes the faces as the model recorded them (size, detector).
    result = json.loads(
        _ok(depnet("predict", video, "--model", model, "--clips", 3, "--json")).stdout
    )
    assert result["faces"]["size"] == face_size and result["faces"]["detect_size"] == 160
    evaluated = table[next(v for v in table.index if video.stem.startswith(v))]
    assert result["bdi_ii"] == pytest.approx(evaluated, abs=1e-4)


def test_provenance_follows_the_chain(trained, tmp_path):
    root, _, summary = trained
    model = summary["model"]
    chain = json.loads(_ok(depnet("provenance", model, "--json")).stdout)
    assert chain["weights_sha256"] == summary["weights_sha256"]
    trained_record = chain["trained"]
    import hashlib

    manifest = root / "manifest.csv"
    assert (
        trained_record["data"]["manifest_sha256"]
        == hashlib.sha256(manifest.read_bytes()).hexdigest()
    )
    assert trained_record["config_sha256"] == summary["config_sha256"]
    assert chain["run_config"]["matches_the_record"] is True
    assert chain["calibration"]["matches_the_model"] is True
    dev = json.loads(_ok(depnet("provenance", root / "dev.csv", "--json")).stdout)
    assert dev["made_by_weights"] == summary["weights_sha256"]
    assert chain["calibration"]["predictions_sha256"] == dev["sha256"]
    _ok(depnet("export", model, "--out", tmp_path / "serve"))
    exported = json.loads(_ok(depnet("provenance", tmp_path / "serve", "--json")).stdout)
    assert exported["model_weights_sha256"] == summary["weights_sha256"]
    assert exported["trained"]["config_sha256"] == summary["config_sha256"]
    text = _ok(depnet("provenance", model)).stdout
    assert f"weights_sha256: {summary['weights_sha256']}" in text
    assert os.path.basename(str(manifest)) in text
