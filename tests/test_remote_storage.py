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
from depnet_tf.models.regressor import weights_hash
from depnet_tf.training.config import read_config
from depnet_tf.training.trainer import train
from tests.training.workspace import Killed, kill_at_backup, make_workspace


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
    assert weights_hash(trained) == summary["weights_sha256"]

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


def test_frame_folders_and_manifest_in_ram_storage(workspace, tmp_path):
    """Faces stored beside a manifest in gfile storage: its relative `frames` resolve
    there, an OpenFace CSV beside a folder filters it, and the cache and the frame
    datasets read the images from there exactly as from local disk."""
    import os

    import pandas as pd

    from depnet_tf.data import clip_dataset
    from depnet_tf.data.frames import list_frames

    root = f"ram://depnet-{uuid.uuid4().hex[:8]}/data"
    config = read_config(workspace)
    local = Manifest.read(config["data"]["manifest"])
    table = local.table.copy()
    for folder in table["frames"]:
        for name in os.listdir(folder):
            tf.io.gfile.makedirs(f"{root}/faces/{os.path.basename(folder)}")
            tf.io.gfile.copy(
                os.path.join(folder, name), f"{root}/faces/{os.path.basename(folder)}/{name}"
            )
    # OpenFace's CSV beside v0's folder drops its frame 2 (confidence 0.2).
    rows = [f"{n}, 0.98, 1" if n != 2 else "2, 0.2, 1" for n in range(1, 9)]
    with tf.io.gfile.GFile(f"{root}/faces/v0.csv", "w") as file:
        file.write("frame, confidence, success\n" + "\n".join(rows) + "\n")
    table["frames"] = ["faces/../faces/" + os.path.basename(f) for f in table["frames"]]
    with tf.io.gfile.GFile(f"{root}/manifest.csv", "w") as file:
        table.to_csv(file, index=False)

    remote = Manifest.read(f"{root}/manifest.csv")
    assert remote.table["frames"][0] == f"{root}/faces/v0_aligned"
    numbers = [n for n, _ in list_frames(remote.table["frames"][0])]
    assert numbers == [1, 3, 4, 5, 6, 7, 8]
    assert [n for n, _ in list_frames(remote.table["frames"][1])] == list(range(1, 9))

    model = load_regressor_from_config(config)
    done, failures = build_cache(model, remote, f"{root}/cache", progress=False)
    assert len(done) == len(remote) and not failures
    for name in done[1:]:  # v0 lost a frame to its CSV
        np.testing.assert_array_equal(
            read_entry(entry_path(f"{root}/cache", name))[0],
            read_entry(entry_path(config["data"]["cache"], name))[0],
        )
    assert list(read_entry(entry_path(f"{root}/cache", "v0"))[1]) == numbers

    def first_clips(manifest):
        dataset = clip_dataset(manifest, "dev", 3, clips_per_video=2, image_size=32)
        return next(iter(dataset))[0].numpy()

    np.testing.assert_array_equal(first_clips(remote), first_clips(local))

    from depnet_tf.export import predict_path

    model.save(tmp_path / "model.keras")
    predictor = load_predictor(tmp_path / "model.keras")
    scored = [predict_path(m.table["frames"][1], predictor, clips=2) for m in (remote, local)]
    assert scored[0]["bdi_ii"] == scored[1]["bdi_ii"]

    local_copy = tmp_path / "manifest.csv"
    remote.write(local_copy)  # URL frames stay URLs in a local CSV
    assert pd.read_csv(local_copy)["frames"][0] == f"{root}/faces/v0_aligned"


def test_a_url_run_killed_with_its_machine_resumes_on_another(workspace, monkeypatch):
    import pandas as pd

    from depnet_tf.files import remove

    root = f"ram://depnet-{uuid.uuid4().hex[:8]}"
    settings = {"train.max_epochs": 4, "train.deterministic": True, "data.val_split": None}

    def run(name):
        return train(
            read_config(workspace, {"train.out_dir": f"{root}/{name}", **settings}), progress=False
        )

    straight = run("straight")

    kill_at_backup(monkeypatch, 3)  # epoch 3's state is written, its backup is not
    with pytest.raises(Killed):
        run("run")
    monkeypatch.undo()
    mirrored = sorted(tf.io.gfile.listdir(f"{root}/run/resume"))
    assert [n for n in mirrored if n.startswith("state-")] == ["state-1.json", "state-2.json"]
    assert "latest.weights.h5" in mirrored
    remove(staging_dir(f"{root}/run"))  # the machine is gone, and its staging folder

    resumed = run("run")
    with tf.io.gfile.GFile(f"{root}/run/history.csv") as file:
        assert pd.read_csv(file)["epoch"].tolist() == [0, 1, 2, 3]  # resumed after epoch 1
    assert resumed["weights_sha256"] == straight["weights_sha256"]
    assert not tf.io.gfile.exists(f"{root}/run/resume")
    assert not tf.io.gfile.exists(staging_dir(f"{root}/run"))


def test_predict_a_video_file_in_ram_storage(face_videos, detector, tmp_path):
    import keras

    from depnet_tf import DepNetConfig, build_depnet
    from depnet_tf.errors import DataError
    from depnet_tf.export import predict_path

    url = f"ram://videos-{uuid.uuid4().hex[:8]}/{face_videos[0].name}"
    tf.io.gfile.makedirs(url.rsplit("/", 1)[0])
    tf.io.gfile.copy(str(face_videos[0]), url)
    keras.utils.set_random_seed(0)
    config = DepNetConfig(image_size=32, num_frames=3, branch_filters=2, hlf_channels=4, fc_units=8)
    build_depnet(config).save(tmp_path / "model.keras")
    predictor = load_predictor(tmp_path / "model.keras")
    scored = [predict_path(v, predictor, clips=2, detector=detector) for v in (url, face_videos[0])]
    assert scored[0]["bdi_ii"] == scored[1]["bdi_ii"]
    with pytest.raises(DataError, match=f"^{url}x: no such video file or frame folder$"):
        predict_path(url + "x", predictor)
