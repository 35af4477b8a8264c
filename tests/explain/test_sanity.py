"""Sanity checks (Adebayo et al., 2018) on a trained demo model; `depnet explain` as a process."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from depnet_tf.data import Manifest
from depnet_tf.data.inputs import clip_frames
from depnet_tf.demo import DemoSettings, run_demo
from depnet_tf.explain import grad_cam
from depnet_tf.models.loading import load_regressor
from tests.cli.process import depnet, one_error_line

SETTINGS = DemoSettings(
    num_videos=10,
    frames_per_video=10,
    image_size=64,
    fc_units=16,
    max_epochs=2,
    clips_per_video=20,
    eval_clips_per_video=2,
    dev_fraction=0.0,
    backbone_weights=None,
    seed=2,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    report = run_demo(str(out), SETTINGS, progress=False, log=None)
    return out, report


def held_out_clips(demo):
    out, report = demo
    manifest = Manifest.read(out / "manifest.csv")
    model = load_regressor(report["keras_model"])
    test = manifest.split("test").sort_values("label")
    clips = [clip_frames(manifest.frames(v), 5, 64, 2).astype("float32") for v in test["video_id"]]
    return model, np.concatenate(clips), test["label"].tolist()


@pytest.mark.large
def test_heatmaps_depend_on_the_trained_head(demo):
    model, clips, _ = held_out_clips(demo)
    trained = grad_cam(model, clips)
    keras.utils.set_random_seed(99)
    for name in ("hlf", "fc1", "bdi_ii"):  # re-initialise the head (cascading randomisation)
        layer = model.get_layer(name)
        for weight in layer.weights:
            initializer = (
                keras.initializers.GlorotUniform()
                if len(weight.shape) > 1
                else keras.initializers.RandomNormal(stddev=0.1)
            )
            weight.assign(initializer(weight.shape))
    random = grad_cam(model, clips)
    assert trained.shape == (len(clips), 5, 2, 2)
    correlation = stats.spearmanr(trained.ravel(), random.ravel()).statistic
    assert correlation < 0.5, correlation


@pytest.mark.large
def test_heatmaps_differ_between_labels(demo):
    model, clips, labels = held_out_clips(demo)
    cams = grad_cam(model, clips)
    low, high = cams[:2], cams[-2:]  # the lowest- and highest-labelled held-out videos
    assert labels[0] < labels[-1]
    difference = np.abs(low - high).mean() / max(np.abs(cams).mean(), 1e-12)
    assert difference > 0.1, difference


@pytest.mark.large
def test_explain_command_matches_predict(demo, tmp_path):
    out, report = demo
    video = pd.read_csv(out / "manifest.csv").query("split == 'test'")["video_id"].iloc[0]
    frames = out / "faces" / f"{video}_aligned"
    result = depnet(
        "explain",
        frames,
        "--model",
        report["keras_model"],
        "--out",
        tmp_path / "x",
        "--clips",
        3,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    explained = json.loads(result.stdout)
    predicted = depnet("predict", frames, "--model", report["keras_model"], "--clips", 3, "--json")
    assert explained["bdi_ii"] == pytest.approx(json.loads(predicted.stdout)["bdi_ii"], abs=1e-4)
    written = json.loads((tmp_path / "x" / "explain.json").read_text())
    assert len(written["clips"]) == 3 and written["grad_cam_shape"] == [5, 2, 2]
    for record in written["clips"]:
        assert len(record["frames"]) == 5 and sum(record["frame_importance"]) == pytest.approx(1)
        assert (tmp_path / "x" / f"clip_{record['clip']:02d}.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "x" / "overlays.gif").read_bytes()[:3] == b"GIF"
    line = one_error_line(
        depnet("explain", frames, "--model", report["exported_model"], "--out", tmp_path / "y"),
        "explain",
    )
    assert "Grad-CAM needs the Keras model (.keras)" in line
