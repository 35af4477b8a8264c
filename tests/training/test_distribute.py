import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from depnet_tf.models.regressor import weights_hash
from tests.training.workspace import make_workspace

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def config_path(tmp_path_factory):
    return make_workspace(str(tmp_path_factory.mktemp("dist")))


def launch(config_path, out_dir, strategy, cpus=1, env=None, summary=None):
    command = [
        sys.executable,
        "-m",
        "tests.training.distributed_run",
        config_path,
        str(out_dir),
        strategy,
        str(cpus),
    ]
    if summary:
        command.append(str(summary))
    return subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(process, timeout=900):
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, err.decode()[-3000:]


def weights(out_dir):
    with np.load(os.path.join(out_dir, "weights.npz")) as data:
        return [data[k] for k in sorted(data.files, key=lambda k: int(k.split("_")[1]))]


@pytest.mark.large
def test_mirrored_on_two_logical_cpus_matches_one_device(config_path, tmp_path):
    single, mirrored = tmp_path / "single", tmp_path / "mirrored"
    finish(launch(config_path, single, "default"))
    finish(launch(config_path, mirrored, "mirrored", cpus=2))
    for a, b in zip(weights(single), weights(mirrored)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.large
def test_two_workers_share_one_cache_and_one_output_folder(config_path, tmp_path):
    """Both workers read the workspace's one cache; the chief alone writes to the shared folder."""
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    shared = tmp_path / "run"
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(
            launch(
                config_path,
                shared,
                "multiworker",
                env={"TF_CONFIG": json.dumps(tf_config)},
                summary=tmp_path / f"worker{index}.json",
            )
        )
    for process in processes:
        finish(process)
    chief, other = (json.loads((tmp_path / f"worker{i}.json").read_text()) for i in range(2))
    assert (chief["worker"], other["worker"]) == (0, 1)
    assert chief["weights_sha256"] == other["weights_sha256"]
    assert chief["model"] == other["model"] == str(shared / "model.keras")
    model = keras.saving.load_model(chief["model"])
    assert weights_hash(model) == chief["weights_sha256"]
    assert sorted(os.listdir(shared / "checkpoints")) == ["last.weights.h5"]
    assert not [name for name in os.listdir(shared) if name.startswith(("workertemp", ".tmp-"))]
