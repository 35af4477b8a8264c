"""`faces` and `cache` as 3 shards in 3 concurrent processes, as a job array runs them."""

import filecmp
import os
import subprocess

import numpy as np
import pytest

from depnet_tf.sharding import parse_shard, shard_of
from tests.cli.dataset import write_config
from tests.cli.process import DEPNET, depnet


def run_shards(*args):
    """`depnet ARGS --shard I/3` for I = 0, 1, 2 at once; each must succeed."""
    processes = [
        subprocess.Popen(
            [DEPNET, *map(str, args), "--shard", f"{i}/3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err


def test_shards_cover_everything_once():
    names = [f"v{i}" for i in range(7)]
    shards = [shard_of(names, (i, 3)) for i in range(3)]
    assert sorted(sum(shards, [])) == sorted(names)
    assert shard_of(list(reversed(names)), (1, 3)) == shards[1]
    assert parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "-1/3", "a/3", "1"):
        with pytest.raises(ValueError, match="shard"):
            parse_shard(bad)


@pytest.mark.large
def test_sharded_faces_and_cache_equal_unsharded_runs(avec_dataset, tmp_path):
    root, videos, manifest = avec_dataset
    run_shards("faces", videos, "--out", tmp_path / "faces", "--size", 32, "--detect-size", 160)
    unsharded = root / "faces"
    assert sorted(os.listdir(tmp_path / "faces")) == sorted(os.listdir(unsharded))
    for name in os.listdir(unsharded):
        if name.endswith((".csv", ".json")):  # the CSVs and the faces records
            assert filecmp.cmp(unsharded / name, tmp_path / "faces" / name, shallow=False)
        else:
            match, mismatch, errors = filecmp.cmpfiles(
                unsharded / name,
                tmp_path / "faces" / name,
                os.listdir(unsharded / name),
                shallow=False,
            )
            assert not mismatch and not errors and match

    config = write_config(tmp_path / "config.yaml", manifest, 32)
    result = depnet("cache", manifest, "--out", tmp_path / "whole", "--config", config)
    assert result.returncode == 0, result.stderr
    run_shards("cache", manifest, "--out", tmp_path / "sharded", "--config", config)
    for name in os.listdir(tmp_path / "whole"):
        if name.endswith(".npz"):
            with np.load(tmp_path / "whole" / name) as a, np.load(tmp_path / "sharded" / name) as b:
                np.testing.assert_array_equal(a["features"], b["features"])
                np.testing.assert_array_equal(a["frames"], b["frames"])
    result = depnet(
        "cache", manifest, "--out", tmp_path / "sharded", "--config", config, "--verify"
    )
    assert result.returncode == 0, result.stderr
    assert "6 of 6 videos have a complete entry" in result.stdout
    gone = sorted(n for n in os.listdir(tmp_path / "sharded") if n.endswith(".npz"))[0]
    os.remove(tmp_path / "sharded" / gone)
    result = depnet(
        "cache", manifest, "--out", tmp_path / "sharded", "--config", config, "--verify"
    )
    assert result.returncode == 1
    assert f"incomplete {gone[:-4]}: " in result.stderr and "missing" in result.stderr
