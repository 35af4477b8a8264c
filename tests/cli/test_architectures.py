"""Each of the paper's four architectures through train, evaluate, export and predict.

Every step is its own `depnet` process, on the tiny data set of real videos
(32 px faces). Sequence models train on the frozen backbone's feature cache;
the single-image models are fine-tuned on single frames (paper, section 5.3.1).
"""

import json

import numpy as np
import pytest

from depnet_tf.constants import ARCH_NAMES
from tests.cli.dataset import write_config
from tests.cli.process import depnet, python

SAVE_RESNET = """
import sys, keras
keras.utils.set_random_seed(0)
keras.applications.ResNet50(include_top=False, weights=None,
                            input_shape=(32, 32, 3)).save_weights(sys.argv[1])
"""


@pytest.mark.large
@pytest.mark.parametrize("arch", ARCH_NAMES)
def test_every_architecture_through_every_command(arch, avec_dataset, tmp_path):
    _, videos, manifest = avec_dataset
    model_settings = {}
    if arch.startswith("resnet50"):
        weights = tmp_path / "resnet50.weights.h5"
        python(SAVE_RESNET, weights)
        model_settings["backbone_weights"] = str(weights)
    config = write_config(
        tmp_path / "config.yaml", manifest, 32, arch=arch, model={**model_settings}
    )
    sequence = arch in ("depnet", "resnet50-sequence")
    if sequence:
        cache = tmp_path / f"cache-{'senet50' if arch == 'depnet' else 'resnet50'}"
        result = depnet("cache", manifest, "--out", cache, "--config", config)
        assert result.returncode == 0, result.stderr

    result = depnet("train", "--config", config)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["arch"] == arch and summary["iterations"] > 0
    model = summary["model"]
    history = (tmp_path / "run" / "history.csv").read_text()
    assert history.count("\n") == 3  # header and two epochs

    extra = ["--cache", cache] if sequence else []
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
        *extra,
    )
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["videos"] == 2 and scores["clips"] == 6 and np.isfinite(scores["rmse"])
    clips = (tmp_path / "test.clips.csv").read_text().splitlines()
    assert clips[0] == "video_id,clip,frames,label,prediction,model_sha256" and len(clips) == 7
    frames_per_clip = len(clips[1].split(",")[2].split())
    assert frames_per_clip == (3 if sequence else 1)

    result = depnet("export", model, "--out", tmp_path / "serving")
    assert result.returncode == 0, result.stderr
    request = json.loads((tmp_path / "serving" / "depnet" / "request.example.json").read_text())
    shape = np.asarray(request["instances"][0]["frames"]).shape
    assert shape == ((3, 32, 32, 3) if sequence else (32, 32, 3))

    test_video = next((videos / "Testing").rglob("*.avi"))
    scored = []
    for source in (model, tmp_path / "serving" / "depnet" / "1"):
        result = depnet("predict", test_video, "--model", source, "--clips", 3, "--json")
        assert result.returncode == 0, result.stderr
        scored.append(json.loads(result.stdout))
    assert scored[0]["clips"] == 3
    assert scored[1]["bdi_ii"] == pytest.approx(scored[0]["bdi_ii"], abs=1e-3)
