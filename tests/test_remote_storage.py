"""Cache, train, export, evaluate, report with every file in `tf.io.gfile` storage (`ram://`).

`ram://` is TensorFlow's in-memory filesystem: it lives in this process, so the
whole chain runs here rather than as `depnet` processes. It stands in for
`gs://` and other object stores, which go through the same `tf.io.gfile` calls.
"""

import uuid

import numpy as np
import pytest
import tensorflow as tf

from depnet_tf.cli.main import main
from depnet_tf.data import Manifest, build_cache, verify_cache
from depnet_tf.data.cache_entries import entry_path, read_entry
from depnet_tf.export import export_version, load_model, load_predictor
from depnet_tf.files import staging_dir
from depnet_tf.models.loading import load_regressor
from depnet_tf.training.config import read_config
from depnet_tf.training.trainer import train, weights_digest
from tests.training.workspace import make_workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return make_workspace(str(tmp_path_factory.mktemp("remote")))


def test_cache_train_export_and_score_in_ram_storage(workspace):
    root = f"ram://depnet-{uuid.uuid4().hex[:8]}"
    config = read_config(workspace)
    manifest = Manifest.read(config["data"]["manifest"])
    local_cache = config["data"]["cache"]

    # cache: the same entries as the local cache, verified through gfile
    model = load_regressor_from_config(config)
    done, failures = build_cache(model, manifest, f"{root}/cache", progress=False)
    assert len(done) == len(manifest) and not failures
    assert verify_cache(f"{root}/cache", manifest, model.feature_spec()) == []
    for name in done:
        remote, _ = read_entry(entry_path(f"{root}/cache", name))
        np.testing.assert_array_equal(remote, read_entry(entry_path(local_cache, name))[0])

    # train: reads the ram:// cache, writes its run there (staged locally, then uploaded)
    run = f"{root}/run"
    config = read_config(
        workspace,
        {"data.cache": f"{root}/cache", "train.out_dir": run, "train.max_epochs": 2},
    )
    summary = train(config, progress=False)
    assert summary["model"] == f"{run}/model.keras"
    for name in ("model.keras", "config.yaml", "history.csv", "checkpoints/last.weights.h5"):
        assert tf.io.gfile.exists(f"{run}/{name}"), name
    assert not tf.io.gfile.exists(staging_dir(run))
    trained = load_regressor(summary["model"])
    assert weights_digest(trained) == summary["weights_sha256"]

    # export: SavedModel, TFLite and the model card into ram://; load and score from there
    serving = f"{root}/serving"
    written = export_version(trained, serving, tflite=["float32"], model_path=summary["model"])
    assert written["savedmodel"] == f"{serving}/depnet/1"
    assert tf.io.gfile.exists(f"{serving}/depnet-v1.model_card.md")
    assert tf.io.gfile.exists(f"{serving}/depnet/1/assets.extra/model_card.json")
    clip = np.random.default_rng(0).integers(0, 256, (2, 3, 32, 32, 3), dtype=np.uint8)
    expected = trained.predict(clip.astype(np.float32), verbose=0).reshape(-1)
    loaded = load_model(written["savedmodel"])
    scores = loaded.signatures["serving_default"](frames=tf.constant(clip))["bdi_ii"]
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-4, atol=1e-4)
    runner = load_predictor(written["tflite-float32"])
    np.testing.assert_allclose(runner(clip)[0], expected, rtol=1e-3, atol=1e-3)

    # evaluate (on the ram:// cache), calibrate and report, through the command's own main()
    manifest_path = config["data"]["manifest"]
    dev = f"{root}/eval/dev.csv"
    command = ["--quiet", "evaluate", summary["model"], manifest_path, "--split", "dev"]
    assert main([*command, "--cache", f"{root}/cache", "-o", dev]) == 0
    assert main(["--quiet", "calibrate", summary["model"], dev]) == 0
    assert tf.io.gfile.exists(f"{summary['model']}.calibration.json")
    assert main(["--quiet", "report", dev, "--out", f"{root}/report", "--resamples", "50"]) == 0
    for name in ("report.json", "index.html", "tables.md"):
        assert tf.io.gfile.exists(f"{root}/report/{name}"), name


def load_regressor_from_config(config):
    from depnet_tf.models import DepNetConfig, build_model

    return build_model(config["arch"], DepNetConfig.from_dict(config["model"]))


def test_a_missing_remote_model_is_one_line(tmp_path):
    from depnet_tf.errors import ModelFileError

    with pytest.raises(ModelFileError, match=r"^ram://nowhere/model.keras: no such model file$"):
        load_regressor("ram://nowhere/model.keras")
