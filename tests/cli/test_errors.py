"""Every command as its own process, under bad input, full disks and kills.

Each test names the failure of the CLI sweep it covers (numbered as in the
issue that listed them): the command runs as a separate `depnet` process and
must end with one `depnet CMD: error: ...` line naming the file, row or key,
and leave nothing that a later run mistakes for complete.
"""

import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
import yaml

from tests.cli.process import DEPNET, depnet, one_error_line, python, small_disk
from tests.training.workspace import make_workspace, write_frames

SAVE_MODEL = """
import sys, depnet_tf as d
d.build_depnet(d.DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4,
                              fc_units=8)).save(sys.argv[1])
"""


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A `.keras` file written by another process, as users hand them over."""
    path = tmp_path_factory.mktemp("model") / "m.keras"
    python(SAVE_MODEL, path)
    return path


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("frames")
    write_frames(str(root), videos=1, frames=6)
    return root / "v0_aligned"


# 1. A .keras file is usable by export, evaluate and predict in a fresh process.
def test_fresh_process_export_and_predict(model_file, frames_dir, tmp_path):
    result = depnet("export", model_file, "--out", tmp_path / "serve")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "serve" / "depnet" / "1" / "saved_model.pb").is_file()
    result = depnet("predict", frames_dir, "--model", model_file, "--clips", 2, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["clips"] == 2


def test_fresh_process_evaluate(model_file, tmp_path):
    manifest = write_frames(str(tmp_path), videos=3, frames=5)
    result = depnet(
        "evaluate",
        model_file,
        manifest,
        "--split",
        "train",
        "--clips",
        2,
        "--json",
        "-o",
        tmp_path / "p.csv",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["videos"] == 2


# 2. A full disk during an HDF5 write: no segfault, one line, nothing left behind.
def test_weights_convert_on_a_full_disk(tmp_path):
    source = tmp_path / "senet.weights.h5"
    python(
        "import sys, depnet_tf as d; d.SENet50(input_shape=(32, 32, 3)).save_weights(sys.argv[1])",
        source,
    )
    with small_disk(tmp_path / "disk") as disk:
        result = depnet("weights", "convert", source, disk / "out.weights.h5")
        line = one_error_line(result, "weights")
        assert str(disk / "out.weights.h5") in line or str(disk) in line
        assert "not enough free space" in line
        assert os.listdir(disk) == []


def test_train_on_a_full_disk(tmp_path):
    config = make_workspace(str(tmp_path / "ws"))
    with small_disk(tmp_path / "disk") as disk:
        result = depnet("train", "--config", config, "--set", f"train.out_dir={disk / 'run'}")
        line = one_error_line(result, "train")
        assert "not enough free space" in line and str(disk / "run") in line
        assert not os.path.exists(disk / "run" / "model.keras")
        leftovers = [os.path.join(r, f) for r, _, files in os.walk(disk) for f in files]
        assert leftovers == []


# 3. A full disk during export: one line naming the version folder.
def test_export_on_a_full_disk(model_file, tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        for extra in ([], ["--force"]):
            result = depnet("export", model_file, "--out", disk, *extra)
            line = one_error_line(result, "export")
            assert str(disk / "depnet") in line
        assert not any(
            n.startswith(".tmp-") for _, dirs, files in os.walk(disk) for n in dirs + files
        )


def test_cache_on_a_full_disk_names_the_path(tmp_path):
    config = yaml.safe_load(open(make_workspace(str(tmp_path / "ws"))))
    with small_disk(tmp_path / "disk", size="24k") as disk:
        result = depnet(
            "cache",
            config["data"]["manifest"],
            "--out",
            disk / "cache",
            "--config",
            tmp_path / "ws" / "config.yaml",
        )
        line = one_error_line(result, "cache")
        assert str(disk / "cache") in line and "no space" in line


# 4. A damaged cache entry is redone by `cache` and named by readers.
def test_damaged_cache_entry(tmp_path):
    config_path = make_workspace(str(tmp_path))
    config = yaml.safe_load(open(config_path))
    cache = config["data"]["cache"]
    entry = os.path.join(cache, "v0.npz")
    with open(entry, "r+b") as file:
        file.truncate(os.path.getsize(entry) // 2)
    # A model whose backbone is the cache's, so evaluate gets as far as the entry.
    model = tmp_path / "model.keras"
    python(
        "import sys, yaml, depnet_tf as d\n"
        "config = yaml.safe_load(open(sys.argv[1]))\n"
        "d.build_depnet(d.DepNetConfig(**config['model'])).save(sys.argv[2])",
        config_path,
        model,
    )
    manifest = config["data"]["manifest"]
    result = depnet("evaluate", model, manifest, "--split", "train", "--cache", cache)
    line = one_error_line(result, "evaluate")
    assert entry in line and "damaged cache entry" in line

    result = depnet("train", "--config", config_path)
    line = one_error_line(result, "train")
    assert entry in line and "damaged cache entry" in line

    result = depnet("cache", config["data"]["manifest"], "--out", cache, "--config", config_path)
    assert result.returncode == 0, result.stderr
    assert f"re-caching {entry}: damaged cache entry" in result.stderr
    assert "6 videos cached" in result.stdout
    with np.load(entry) as data:
        assert data["features"].shape[0] == 8


def test_corrupt_cache_metadata_is_named(tmp_path):
    config_path = make_workspace(str(tmp_path))
    meta = os.path.join(yaml.safe_load(open(config_path))["data"]["cache"], "meta.json")
    with open(meta, "w") as file:
        file.write("{not json")
    line = one_error_line(depnet("train", "--config", config_path), "train")
    assert meta in line and "damaged cache metadata" in line


# 5. The same subject in two splits is refused, unless allowed (and then recorded).
def test_subject_in_two_splits(tmp_path):
    config_path = make_workspace(str(tmp_path))
    manifest = yaml.safe_load(open(config_path))["data"]["manifest"]
    text = open(manifest).read().replace(",s2\n", ",s0\n")  # v2 (dev) now belongs to s0 (train)
    open(manifest, "w").write(text)
    line = one_error_line(depnet("train", "--config", config_path), "train")
    assert "subject 's0'" in line and "['dev', 'train']" in line
    result = depnet(
        "train",
        "--config",
        config_path,
        "--set",
        "data.allow_subject_overlap=true",
        "--set",
        "train.max_epochs=1",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["subject_overlap_allowed"] == {"s0": ["dev", "train"]}
    assert "allow_subject_overlap" in result.stderr
    written = yaml.safe_load(open(tmp_path / "run" / "config.yaml"))
    assert written["data"]["allow_subject_overlap"] is True


# 6. Training settings are type- and range-checked, naming the key.
@pytest.mark.parametrize(
    "setting, expected",
    [
        ("data.batch_size=x", "'data.batch_size' must be an integer in 1..4096 (4096 clips"),
        ("data.batch_size=0", "'data.batch_size' must be an integer in 1..4096"),
        ("data.batch_size=0", "Received: 0"),
        ("train.max_epochs=0", "'train.max_epochs' must be an integer in 1..1000000"),
        ("train.base_lr=-1", "'train.base_lr' must be a number in (0, 1e+30]"),
        ("train.base_lr=.nan", "'train.base_lr' must be a number in (0, 1e+30]"),
        ("train.end_to_end=maybe", "'train.end_to_end' must be true or false"),
    ],
)
def test_training_settings_are_checked(tmp_path, setting, expected):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": {"manifest": "m.csv"}}))
    line = one_error_line(depnet("train", "--config", config, "--set", setting), "train")
    assert str(config) in line and expected in line
    assert not (tmp_path / "runs").exists()


# 7. Model files that are broken or of another kind: one line naming the file.
def test_broken_model_files(model_file, tmp_path):
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(model_file.read_bytes()[:5000])
    renamed = tmp_path / "renamed.h5"
    renamed.write_bytes(model_file.read_bytes())
    cases = {
        empty: "empty (0 bytes)",
        truncated: "not a complete .keras archive",
        renamed: "rename it to end in .keras",
    }
    for path, reason in cases.items():
        for command in (
            ["export", path, "--out", tmp_path / "s"],
            ["evaluate", path, tmp_path / "m.csv"],
        ):
            line = one_error_line(depnet(*command), command[0])
            assert str(path) in line and reason in line


def test_broken_tflite_and_savedmodel(frames_dir, model_file, tmp_path):
    empty = tmp_path / "e.tflite"
    empty.write_bytes(b"")
    garbage = tmp_path / "g.tflite"
    garbage.write_bytes(b"\x00" * 64)
    for path, reason in ((empty, "empty (0 bytes)"), (garbage, "not a TFLite flatbuffer")):
        line = one_error_line(depnet("predict", frames_dir, "--model", path), "predict")
        assert str(path) in line and reason in line
    assert depnet("export", model_file, "--out", tmp_path / "s").returncode == 0
    version = tmp_path / "s" / "depnet" / "1"
    for name in os.listdir(version / "variables"):
        os.remove(version / "variables" / name)
    line = one_error_line(depnet("predict", frames_dir, "--model", version), "predict")
    assert str(version) in line and "incomplete SavedModel" in line


# 8. Killed runs: their temporaries go on the next run; an export is completed.
def test_killed_export_leaves_nothing_after_a_rerun(model_file, tmp_path):
    out = tmp_path / "serve"
    process = subprocess.Popen(
        [DEPNET, "export", str(model_file), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "depnet").is_dir() and any(
            n.startswith(".tmp-") for n in os.listdir(out / "depnet")
        ):
            break
        time.sleep(0.05)
    if process.poll() is not None:
        pytest.skip("the export finished before it could be killed")
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert any(n.startswith(".tmp-") for n in os.listdir(out / "depnet"))
    assert not (out / "depnet" / "1").exists()
    result = depnet("export", model_file, "--out", out)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out / "depnet")) == ["1", "request.example.json"]


def test_export_completes_a_version_without_its_tflite(model_file, tmp_path):
    out = tmp_path / "serve"
    assert depnet("export", model_file, "--out", out).returncode == 0
    result = depnet("export", model_file, "--out", out, "--tflite", "float32")
    assert result.returncode == 0, result.stderr
    assert "kept" in result.stdout and (out / "depnet-v1-float32.tflite").is_file()
    line = one_error_line(
        depnet("export", model_file, "--out", out, "--tflite", "float32"), "export"
    )
    assert "exists with every requested file" in line


def test_export_refuses_to_complete_another_models_version(model_file, tmp_path):
    other = tmp_path / "other.keras"
    python(SAVE_MODEL.replace("fc_units=8", "fc_units=6"), other)
    out = tmp_path / "serve"
    assert depnet("export", model_file, "--out", out).returncode == 0
    line = one_error_line(depnet("export", other, "--out", out, "--tflite", "float32"), "export")
    assert "exported from another model" in line


def test_dead_writers_temporaries_are_removed_by_faces(tmp_path):
    out = tmp_path / "faces"
    out.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = out / f".tmp-{os.uname().nodename[:24]}.{dead.pid}.abcdef-v_aligned"
    stale.mkdir()
    (stale / "frame_det_00_000001.png").write_bytes(b"x")
    from tests.faces.videos import write_blank_video

    video = write_blank_video(tmp_path / "v.avi")
    result = depnet("faces", video, "--out", out)
    assert result.returncode == 1  # the blank video has no face: skipped
    assert not stale.exists()


# 9. Minor: a kernel stored as bytes does not "fit"; --clips 0 is refused by name.
def test_weights_stored_as_bytes_do_not_fit(tmp_path):
    from tests.weights.reference import (
        keras_vggface_layers,
        random_state_dict,
        write_keras_vggface_h5,
    )

    layers = keras_vggface_layers(random_state_dict(seed=1))
    name, weights = layers[0]  # conv1/7x7_s2: its kernel becomes bytes of the right shape
    kernel_name, kernel = weights[0]
    layers[0] = (name, [(kernel_name, np.full(kernel.shape, b"abcd", dtype="S4"))])
    source = tmp_path / "rcmalli_vggface_tf_notop_senet50.h5"
    write_keras_vggface_h5(source, layers)
    result = depnet("weights", "inspect", source)
    assert result.returncode == 1
    assert "NO:" in result.stdout and "not numbers [conv1_7x7_s2: ['|S4']]" in result.stdout
    line = one_error_line(
        depnet("weights", "convert", source, tmp_path / "o.weights.h5"), "weights"
    )
    assert str(source) in line and "not numbers" in line
    assert not (tmp_path / "o.weights.h5").exists()


def test_predict_clips_zero(frames_dir, model_file):
    result = depnet("predict", frames_dir, "--model", model_file, "--clips", 0)
    assert result.returncode == 2
    assert "--clips: must be an integer >= 1, got 0" in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    missing = tmp_path / "missing.yaml"
    line = one_error_line(depnet("train", "--config", missing), "train")
    assert str(missing) in line and "no such config file" in line
    result = depnet("--debug", "train", "--config", missing)
    # The same exit status with and without --debug: 2, bad input.
    assert result.returncode == 2 and "Traceback (most recent call last)" in result.stderr
    result = depnet("train", "--config", missing, env={"DEPNET_DEBUG": "1"})
    assert "Traceback (most recent call last)" in result.stderr
