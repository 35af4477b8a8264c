import json
import os

import numpy as np
import pytest

from depnet_tf.cli.main import main
from depnet_tf.demo import DemoSettings, format_report, run_demo

TINY = DemoSettings(
    num_videos=8,
    dev_fraction=0.0,
    frames_per_video=8,
    image_size=32,
    fc_units=8,
    max_epochs=1,
    clips_per_video=4,
    eval_clips_per_video=2,
    batch_size=8,
    seed=1,
    backbone_weights=None,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(str(out), TINY, progress=False, log=None)


@pytest.mark.large
def test_report_fields(report):
    out, result = report
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(result))
    for key in ("rmse", "mae", "baseline_rmse", "baseline_mae", "seconds"):
        assert np.isfinite(result[key]) and result[key] >= 0
    assert result["n_train_videos"] == 6 and result["n_test_videos"] == 2
    assert os.path.isfile(os.path.join(result["exported_model"], "saved_model.pb"))
    assert result["backbone"].startswith("random")
    with open(result["plot"], "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "say nothing about depression" in format_report(result)


@pytest.mark.large
def test_exported_prediction_agrees_with_keras(report):
    _, result = report
    prediction = result["prediction"]
    assert prediction["savedmodel_bdi_ii"] == pytest.approx(prediction["keras_bdi_ii"], abs=1e-3)
    # The video file, through predict's own face extraction, scores as its faces did
    # in the evaluation (from the float16 cache): train and serve see the same crops.
    assert prediction["keras_bdi_ii"] == pytest.approx(prediction["evaluate_bdi_ii"], abs=0.01)


@pytest.mark.large
def test_baseline_is_the_training_mean(report):
    import pandas as pd

    out, result = report
    manifest = pd.read_csv(out / "manifest.csv")
    mean = manifest.loc[manifest["split"] == "train", "label"].mean()
    test = pd.read_csv(result["predictions_csv"])
    assert result["baseline_mae"] == pytest.approx(np.mean(np.abs(test["label"] - mean)))
    assert result["rmse"] == pytest.approx(
        np.sqrt(np.mean((test["prediction"] - test["label"]) ** 2))
    )


def test_bad_settings_name_the_argument():
    # The library names its arguments; the command line names its flags (below).
    with pytest.raises(ValueError, match="`frames_per_video`"):
        DemoSettings(frames_per_video=2)
    with pytest.raises(ValueError, match="`num_videos`"):
        DemoSettings(num_videos=2)


def test_cli_rejects_bad_sizes(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--videos", "1"]) == 2
    assert "--videos must be at least 4" in capsys.readouterr().err


def test_backbone_is_vggface2_when_cached(tmp_path, monkeypatch):
    from depnet_tf.demo.steps import choose_backbone
    from tests.weights.reference import (
        keras_vggface_layers,
        random_state_dict,
        write_keras_vggface_h5,
    )

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    messages = []
    path, description = choose_backbone(DemoSettings(image_size=32), str(tmp_path), messages.append)
    assert path == str(tmp_path / "backbone.weights.h5") and os.path.isfile(path)
    assert description.startswith("random") and "RANDOMLY INITIALISED" in messages[0]
    cached = tmp_path / "models" / "vggface" / "rcmalli_vggface_tf_notop_senet50.h5"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")  # an empty placeholder is no VGGFace2 file
    path, description = choose_backbone(DemoSettings(image_size=32), str(tmp_path), messages.append)
    assert description.startswith("random") and f"ignoring the cached {cached}" in messages[-2]
    # keras-vggface's real layout (every SENet50 layer, random values): taken.
    write_keras_vggface_h5(
        cached, keras_vggface_layers({k: v for k, v in random_state_dict(1).items()})
    )
    path, description = choose_backbone(DemoSettings(image_size=32), str(tmp_path), messages.append)
    assert path == str(cached) and description.startswith("vggface2")
