import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from tests.training.workspace import make_workspace

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def config_path(tmp_path_factory):
    return make_workspace(str(tmp_path_factory.mktemp("dist")))


def launch(config_path, out_dir, strategy, cpus=1, env=None):
    command = [
        sys.executable,
        "-m",
        "tests.training.distributed_run",
        config_path,
        str(out_dir),
        strategy,
        str(cpus),
    ]
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
def test_two_process_multiworker_run_ends_with_identical_weights(config_path, tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(
            launch(
                config_path,
                tmp_path / f"worker{index}",
                "multiworker",
                env={"TF_CONFIG": json.dumps(tf_config)},
            )
        )
    for process in processes:
        finish(process)
    first, second = weights(tmp_path / "worker0"), weights(tmp_path / "worker1")
    assert len(first) == len(second) > 0
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
