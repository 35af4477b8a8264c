import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pandas as pd
import pytest

from depnet_tf.cli.main import main
from depnet_tf.data import DataError
from depnet_tf.training.config import read_config
from depnet_tf.training.trainer import TrainingError, train
from tests.training.workspace import Killed, kill_at_backup, make_workspace

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    return root, make_workspace(str(root))


def test_train_on_the_cache_writes_everything(workspace, tmp_path):
    root, config_path = workspace
    config = read_config(config_path, {"train.out_dir": str(tmp_path / "run")})
    summary = train(config, progress=False)
    run = tmp_path / "run"
    for name in (
        "model.keras",
        "config.yaml",
        "history.csv",
        "val_predictions.csv",
        "checkpoints/last.weights.h5",
        "checkpoints/best.weights.h5",
    ):
        assert (run / name).exists(), name
    assert not (run / "backup").exists()  # removed after a finished run
    assert (
        summary["epochs"] == 3
        and summary["iterations"] == 3 * 4
        and np.isfinite(summary["val_rmse"])
    )
    history = pd.read_csv(run / "history.csv")
    assert {"loss", "iter_loss", "rmse", "mae", "val_rmse", "val_mae"} <= set(history.columns)
    model = keras.saving.load_model(run / "model.keras")
    assert model.input_shape == (None, 3, 32, 32, 3)
    assert list(pd.read_csv(run / "val_predictions.csv").columns) == [
        "video_id",
        "label",
        "prediction",
        "n_clips",
        "severity_true",
        "severity_pred",
    ]


def test_evaluate_command(workspace, tmp_path, capsys):
    root, config_path = workspace
    config = read_config(
        config_path, {"train.out_dir": str(tmp_path / "run"), "train.max_epochs": 1}
    )
    model_path = train(config, progress=False)["model"]
    output = tmp_path / "pred.csv"
    manifest = config["data"]["manifest"]
    assert (
        main(
            ["evaluate", model_path, manifest, "--split", "dev", "--clips", "2", "-o", str(output)]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "per video (paper, eqs. 6-7): RMSE" in out and "bands (rows: true" in out
    table = pd.read_csv(output)
    assert len(table) == 2 and (table["n_clips"] == 2).all()
    cached = tmp_path / "pred_cache.csv"
    assert (
        main(
            [
                "evaluate",
                model_path,
                manifest,
                "--split",
                "dev",
                "--clips",
                "2",
                "--cache",
                config["data"]["cache"],
                "-o",
                str(cached),
            ]
        )
        == 0
    )
    np.testing.assert_allclose(
        pd.read_csv(cached)["prediction"], table["prediction"], rtol=0.02, atol=0.05
    )


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        ({"data.cache": "/nonexistent/cache"}, DataError, "no feature cache here"),
        ({"model.channel_pool": 16}, DataError, "built with other settings"),
        ({"data.val_split": "validation"}, DataError, "split 'validation' is empty"),
        ({"train.base_lr": 1e12}, TrainingError, "the loss became NaN at iteration"),
    ],
)
def test_bad_runs_leave_no_model(workspace, tmp_path, overrides, error, message):
    root, config_path = workspace
    config = read_config(config_path, {"train.out_dir": str(tmp_path / "run"), **overrides})
    with pytest.raises(error, match=message):
        train(config, progress=False)
    assert not (tmp_path / "run" / "model.keras").exists()


def test_cli_reports_unknown_config_key(workspace, capsys):
    _, config_path = workspace
    assert main(["train", "--config", config_path, "--set", "train.epochs=3"]) == 2
    assert "unknown config key 'train.epochs'" in capsys.readouterr().err


RUN = """
import sys
from depnet_tf.training.config import read_config
from depnet_tf.training.trainer import train
config = read_config(sys.argv[1], {"train.out_dir": sys.argv[2], "train.max_epochs": 6,
                                   "train.deterministic": True, "data.val_split": None})
train(config, progress=False)
"""


def run_training(config_path, out_dir):
    return subprocess.Popen(
        [sys.executable, "-c", RUN, config_path, str(out_dir)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.large
def test_killed_run_resumes_to_the_same_weights(workspace, tmp_path):
    _, config_path = workspace
    straight = run_training(config_path, tmp_path / "straight")
    assert straight.wait(timeout=600) == 0, straight.stderr.read().decode()[-2000:]

    resumed_dir = tmp_path / "resumed"
    victim = run_training(config_path, resumed_dir)
    history = resumed_dir / "history.csv"
    deadline = time.time() + 600
    while time.time() < deadline and (
        not history.exists() or len(history.read_text().splitlines()) < 3
    ):
        time.sleep(0.05)  # two epochs logged, and a backup taken
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert (resumed_dir / "backup").exists() and not (resumed_dir / "model.keras").exists()
    again = run_training(config_path, resumed_dir)
    assert again.wait(timeout=600) == 0, again.stderr.read().decode()[-2000:]

    epochs = pd.read_csv(history)["epoch"].tolist()
    assert epochs == list(range(6))  # resumed, with no epoch logged twice
    first = keras.saving.load_model(tmp_path / "straight" / "model.keras")
    second = keras.saving.load_model(resumed_dir / "model.keras")
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_kill_around_the_backup_resumes_exactly(workspace, tmp_path, monkeypatch, when):
    """The narrowest windows of a kill: just before or just after epoch 2's backup is
    written (its resumable state is written before it)."""
    _, config_path = workspace
    settings = {"train.max_epochs": 4, "train.deterministic": True, "data.val_split": None}

    def run(out_dir):
        train(read_config(config_path, {"train.out_dir": str(out_dir), **settings}), progress=False)
        return keras.saving.load_model(out_dir / "model.keras")

    straight = run(tmp_path / "straight")

    kill_at_backup(monkeypatch, 2, after=when == "after")
    with pytest.raises(Killed):
        run(tmp_path / "resumed")
    monkeypatch.undo()
    state = sorted(os.listdir(tmp_path / "resumed" / "backup_state"))
    assert [n for n in state if n.startswith("state-")] == ["state-1.json", "state-2.json"]
    resumed = run(tmp_path / "resumed")
    epochs = pd.read_csv(tmp_path / "resumed" / "history.csv")["epoch"].tolist()
    # Before its backup, epoch 1 runs again; its first row is trimmed from the history.
    assert epochs == [0, 1, 2, 3]
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
