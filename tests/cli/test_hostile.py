"""Hostile input and bad timing, each as users meet it: `depnet` processes.

Numbered as the failures were reported: ids that look like paths (1), other
ids (2), configs that crash or hang (3), exports killed or run twice (4), and
the rest (5). Each test fails on the code before the fix.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from tests.cli.process import DEPNET, depnet, one_error_line, python
from tests.training.workspace import MODEL, write_frames

MODEL_FLAGS = [f"--set={key}={value}" for key, value in MODEL.items()]
SAVE_MODEL = """
import sys, keras, depnet_tf as d
keras.utils.set_random_seed(int(sys.argv[2]))
d.build_depnet(d.DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4,
                              fc_units=8)).save(sys.argv[1])
"""


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.keras"
    python(SAVE_MODEL, path, 0)
    return path


@pytest.fixture(scope="module")
def frames_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("frames")
    write_frames(str(root), videos=2, frames=4)
    return root


def _tree(root):
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            found[path] = os.stat(path).st_mtime_ns
    return found


def _hostile_manifest(root, frames_root, video_id):
    manifest = root / "shared" / "manifest.csv"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        ("v0", frames_root / "v0_aligned", 10, "train", "s0"),
        (video_id, frames_root / "v1_aligned", 20, "train", "s1"),
    ]
    table = pd.DataFrame(rows, columns=["video_id", "frames", "label", "split", "subject"])
    table.to_csv(manifest, index=False)
    return manifest


# 1. An id that looks like a path: refused by row, nothing written or deleted outside --out.
@pytest.mark.parametrize("kind", ["parent", "absolute"])
def test_a_path_like_video_id_never_leaves_the_cache_folder(tmp_path, frames_root, kind):
    escape = tmp_path / "shared" / "escape.npz"
    escape.parent.mkdir(parents=True)
    escape.write_bytes(b"a file of somebody else's")  # the old code deleted it as "damaged"
    video_id = "../escape" if kind == "parent" else str(tmp_path / "elsewhere")
    manifest = _hostile_manifest(tmp_path, frames_root, video_id)
    before = _tree(tmp_path)
    result = depnet("cache", manifest, "--out", tmp_path / "shared" / "cache", *MODEL_FLAGS)
    line = one_error_line(result, "cache")
    assert f"{manifest}: row 3: video_id" in line, line
    assert "path separator" in line, line
    assert _tree(tmp_path) == before  # nothing written, nothing deleted
    assert escape.read_bytes() == b"a file of somebody else's"


# 2. A NUL byte and an over-long id: one line naming the manifest's row, not a temporary.
@pytest.mark.parametrize(
    "video_id, rule",
    [("nul\x00byte", "control characters (U+0000)"), ("x" * 240, "at most 128")],
)
def test_other_hostile_ids_are_refused_by_row(tmp_path, frames_root, video_id, rule):
    manifest = _hostile_manifest(tmp_path, frames_root, video_id)
    result = depnet("cache", manifest, "--out", tmp_path / "cache", *MODEL_FLAGS)
    line = one_error_line(result, "cache")
    assert f"{manifest}: row 3: video_id" in line and rule in line, line
    assert ".tmp-" not in line and len(line) < 300, line
    assert not (tmp_path / "cache").exists()


def test_explanation_folders_take_ids_only_as_names(tmp_path):
    from depnet_tf.files import child_path

    assert child_path(tmp_path, "v1", prefix="best-") == str(tmp_path / "best-v1")
    for hostile in ("../x", "/etc/x", "..", "a/b", "x\x00"):
        with pytest.raises(ValueError, match="video_id"):
            child_path(tmp_path, hostile, prefix="best-", what="video_id")


# 3. Configs that crashed or hung: one line naming the file and key, quickly.
BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "train: {out_dir: *f}\n"
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("model: {temporal_kernels: 5}\n", "'model': DepNetConfig.temporal_kernels must be"),
        ("model: {temporal_kernels: 3.5}\n", "temporal_kernels=3.5"),
        ("model: {temporal_kernels: null}\n", "temporal_kernels=None"),
        ("model: {fc_units: " + "[" * 3000 + "]" * 3000 + "}\n", "nested more than 16"),
        ("model:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 400)), "nested more than"),
        (BILLION_LAUGHS, "aliases (*a) are not accepted"),
        ("data: {seed: 1180591620717411303424}\n", "'data.seed' must be an integer in 0.."),
        ("model: {num_frames: 1000000}\n", "num_frames must be an integer in 1..64"),
        ("model: {temporal_kernels: [1000000000]}\n", "integers in 1..127"),
    ],
    ids=[
        "kernels-int",
        "kernels-float",
        "kernels-null",
        "nested-list",
        "nested-map",
        "billion-laughs",
        "seed-2**70",
        "num-frames",
        "huge-kernel",
    ],
)
def test_configs_that_crashed_or_hung(tmp_path, text, expected):
    config = tmp_path / "config.yaml"
    config.write_text(text)
    start = time.monotonic()
    result = depnet("train", "--config", config, timeout=120)
    seconds = time.monotonic() - start
    line = one_error_line(result, "train")
    assert str(config) in line and expected in line, line
    assert len(line) < 500, len(line)  # never the expanded value
    assert seconds < 60, seconds  # the old code hung or built graph ops for minutes


@pytest.mark.parametrize(
    "value, expected",
    [("[" * 3000, "nested more than 16"), ("{a: " * 3000, "nested more than 16")],
)
def test_deep_set_values_are_one_line(tmp_path, value, expected):
    config = tmp_path / "config.yaml"
    config.write_text("data: {seed: 1}\n")
    result = depnet("train", "--config", config, "--set", f"model.fc_units={value}")
    line = one_error_line(result, "train")
    assert "--set 'model.fc_units'" in line and expected in line, line


# 4. Exports killed just after the version appears, or run twice at once.
KILL_AFTER_RENAME = """
import os, signal, sys
import depnet_tf.export.savedmodel as savedmodel
from depnet_tf.cli.main import main

def killed(*args, **kwargs):  # the version folder was just renamed into place
    os.kill(os.getpid(), signal.SIGKILL)

savedmodel.write_models_config = killed
sys.exit(main(["export", sys.argv[1], "--out", sys.argv[2]]))
"""


def test_an_export_killed_after_the_rename_is_completed_by_the_rerun(tmp_path, model_file):
    out = tmp_path / "serve"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_RENAME, str(model_file), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (out / "depnet" / "1" / "saved_model.pb").is_file()
    assert not (out / "models.config").exists()  # the kill left the companions unwritten
    result = depnet("export", model_file, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "kept (it holds this model)" in result.stdout
    for name in (
        "models.config",
        "depnet/request.example.json",
        "depnet-v1.model_card.json",
        "depnet-v1.model_card.md",
    ):
        assert (out / name).is_file(), name
    result = depnet("export", model_file, "--out", out)  # now it is complete
    assert "exists with every requested file" in one_error_line(result, "export")


def test_two_exports_into_one_folder_at_once(tmp_path, model_file):
    other = tmp_path / "other.keras"
    python(SAVE_MODEL, other, 1)
    out = tmp_path / "serve"
    processes = [
        subprocess.Popen(
            [DEPNET, "export", str(path), "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (model_file, other)
    ]
    results = [(p.wait(timeout=600), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, _, err in results if code == 2)
    assert "Received incompatible tensor" not in loser and "restore" not in loser, loser
    lines = [line for line in loser.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("depnet export: error: "), loser
    # Either they overlapped (the lock names the folder and the other process), or the
    # second came after the first had finished (the version is another model's).
    assert ("another depnet process (pid" in lines[0] and str(out) in lines[0]) or (
        "exported from another model" in lines[0]
    ), lines[0]
    fingerprint = json.loads(
        (out / "depnet" / "1" / "assets.extra" / "depnet_export.json").read_text()
    )
    winner = model_file if results[0][0] == 0 else other
    check = python(
        "import sys, depnet_tf as d\n"
        "from depnet_tf.models.regressor import weights_hash\n"
        "print(weights_hash(d.load_model(sys.argv[1])))",
        winner,
    )
    assert fingerprint["weights_sha256"] == check.stdout.strip()  # the survivor's version is whole
    assert not (out / ".depnet.lock").exists()


def test_a_live_lock_refuses_and_a_dead_ones_is_taken_over(tmp_path, model_file):
    import socket

    from depnet_tf.files import _host

    out = tmp_path / "serve"
    out.mkdir()
    lock = out / ".depnet.lock"
    lock.write_text(f"{_host()} {os.getpid()}\n")  # this test process: alive
    line = one_error_line(depnet("export", model_file, "--out", out), "export")
    assert f"{out}: another depnet process (pid {os.getpid()} on host {_host()})" in line, line
    assert not (out / "depnet").exists()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(f"{_host()} {dead.pid}\n")  # a killed export's lock
    result = depnet("export", model_file, "--out", out)
    assert result.returncode == 0, result.stderr
    assert not lock.exists() and socket.gethostname()


# 5. The rest.
def test_export_to_a_url_prints_its_files_sizes(tmp_path, model_file):
    result = depnet("export", model_file, "--out", "ram://serve", "--onnx")
    assert result.returncode == 0, result.stderr
    assert "ONNX: ram://serve/depnet-v1.onnx (" in result.stdout and " MB) + .json" in result.stdout


@pytest.fixture(scope="module")
def onnx_export(tmp_path_factory, model_file):
    out = tmp_path_factory.mktemp("onnx") / "serve"
    result = depnet("export", model_file, "--out", out, "--onnx")
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("damage", ["not json {", "[1, 2]", '{"calibration": {"q": "x"}}'])
def test_a_damaged_sidecar_or_export_record_is_an_error(tmp_path, onnx_export, frames_root, damage):
    import shutil

    out = tmp_path / "serve"
    shutil.copytree(onnx_export, out)
    frames = frames_root / "v0_aligned"
    sidecar = out / "depnet-v1.onnx.json"
    sidecar.write_text(damage)  # the old code read it as "not calibrated"
    line = one_error_line(depnet("predict", frames, "--model", out / "depnet-v1.onnx"), "predict")
    assert str(sidecar) in line and ("damaged" in line or "calibration" in line), line
    record = out / "depnet" / "1" / "assets.extra" / "depnet_export.json"
    record.write_text(damage)
    line = one_error_line(depnet("predict", frames, "--model", out / "depnet" / "1"), "predict")
    assert str(record) in line, line


INTERNAL_ERROR = """
import sys
import depnet_tf.cli.summary as summary
from depnet_tf.cli.main import main

def broken(args):
    return None + 1  # a bug

summary.run = broken
sys.exit(main(["summary"]))
"""


def test_exit_statuses_tell_a_bug_from_skipped_items(tmp_path):
    bug = subprocess.run(
        [sys.executable, "-c", INTERNAL_ERROR], capture_output=True, text=True, timeout=300
    )
    assert bug.returncode == 70, bug.stderr  # EX_SOFTWARE; 1 is "some items were skipped"
    assert "unexpected error: TypeError" in bug.stderr


def test_unfreeze_last_stage_alone_is_refused(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("data: {seed: 1}\n")
    line = one_error_line(depnet("train", "--config", config, "--unfreeze-last-stage"), "train")
    assert "'train.unfreeze_last_stage' needs 'train.end_to_end: true'" in line, line


DOWNLOAD = """
import os, sys
from depnet_tf.weights import resolve_vggface2
print(resolve_vggface2())
"""


def test_weight_downloads_are_verified_and_never_trust_a_partial_file(tmp_path):
    import hashlib

    release = tmp_path / "release"
    release.mkdir()
    name = "rcmalli_vggface_tf_notop_senet50.h5"
    payload = b"the whole weight file" * 1000
    (release / name).write_bytes(payload)
    home = tmp_path / "keras"
    cache = home / "models" / "vggface"
    cache.mkdir(parents=True)
    (cache / f"{name}.part").write_bytes(payload[:100])  # a killed download (keras' name)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    from depnet_tf.files import _host

    (cache / f".tmp-{_host()}.{dead.pid}.abcdef-{name}").write_bytes(payload[:100])
    env = {"KERAS_HOME": str(home), "DEPNET_VGGFACE2_URL": release.as_uri()}

    def run(**extra):
        return subprocess.run(
            [sys.executable, "-c", DOWNLOAD],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **env, **extra},
        )

    wrong = run(DEPNET_VGGFACE2_SHA256="0" * 64)
    assert wrong.returncode != 0 and "is not the expected" in wrong.stderr
    assert not (cache / name).exists()  # nothing kept under the real name
    right = hashlib.sha256(payload).hexdigest()
    result = run(DEPNET_VGGFACE2_SHA256=right)
    assert result.returncode == 0, result.stderr
    assert (cache / name).read_bytes() == payload  # downloaded whole, not the .part
    assert (cache / f"{name}.sha256").read_text().split()[0] == right
    assert not [p for p in os.listdir(cache) if p.startswith(".tmp-")]
    (cache / name).write_bytes(payload[:-1])  # damaged later: the digest check says so
    damaged = run(DEPNET_VGGFACE2_SHA256=right)
    assert damaged.returncode != 0 and "is not the expected" in damaged.stderr


def test_staging_folders_are_private(tmp_path, monkeypatch):
    import tempfile

    from depnet_tf.errors import StorageError
    from depnet_tf.files import staging_dir

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = staging_dir("ram://bucket/run")
    root = os.path.dirname(folder)
    assert root == str(tmp_path / f"depnet-staging-{os.getuid()}")
    assert os.stat(root).st_mode & 0o777 == 0o700
    os.chmod(root, 0o777)  # someone made it writable for all: a backup could be planted
    with pytest.raises(StorageError, match="other users can write to it"):
        staging_dir("ram://bucket/run")
    os.chmod(root, 0o700)
    if os.geteuid() == 0:
        os.chown(root, 65534, 65534)  # another user's folder
        with pytest.raises(StorageError, match="owned by another user"):
            staging_dir("ram://bucket/run")
