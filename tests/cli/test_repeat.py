"""The same seed on the same machine repeats bit for bit: the whole workflow, twice, as processes.

faces, manifest, cache, train, evaluate, calibrate, report, export and predict run
in a folder; the folder is moved aside and everything runs again in the same
place (so even the paths recorded are the same). Every digest and every number
must be equal.
"""

import hashlib
import json
import os

import pytest

from tests.cli.dataset import prepare, write_config
from tests.cli.process import depnet


def _ok(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _digests(folder):
    """{relative path: SHA-256} of every file under `folder`."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as file:
                found[os.path.relpath(path, folder)] = hashlib.sha256(file.read()).hexdigest()
    return found


def workflow(work):
    """Run every step once; returns what each step produced that must repeat."""
    videos, manifest = prepare(work, 32)
    config = write_config(work / "config.yaml", manifest, 32)
    _ok(depnet("cache", manifest, "--out", work / "cache-senet50", "--config", config))
    summary = json.loads(_ok(depnet("train", "--config", config)).stdout)
    model = summary["model"]
    scores = {}
    for split in ("test", "dev"):
        result = depnet(
            "evaluate", model, manifest, "--split", split, "--json", "-o", work / f"{split}.csv"
        )
        scores[split] = json.loads(_ok(result).stdout)
    calibration = json.loads(_ok(depnet("calibrate", model, work / "dev.csv")).stdout)
    _ok(
        depnet(
            "report", work / "test.csv", "--out", work / "report", "--resamples", 500, "--seed", 3
        )
    )
    report = json.loads((work / "report" / "report.json").read_text())
    _ok(depnet("export", model, "--out", work / "serve", "--no-warmup"))
    fingerprint = json.loads(
        (work / "serve" / "depnet" / "1" / "assets.extra" / "depnet_export.json").read_text()
    )
    video = next((videos / "Testing").rglob("*.avi"))
    served = json.loads(
        _ok(depnet("predict", video, "--model", work / "serve" / "depnet" / "1", "--json")).stdout
    )
    return {
        "faces": _digests(work / "faces"),
        "manifest": _digests(work)["manifest.csv"],
        "cache": _digests(work / "cache-senet50"),
        "summary": {k: v for k, v in summary.items() if k != "seconds"},
        "history": _digests(work / "run")["history.csv"],
        "predictions": {s: _digests(work)[f"{s}.csv"] for s in ("test", "dev")},
        "scores": scores,
        "calibration": calibration,
        "report": report["models"],
        "export": fingerprint,
        "predict": served,
    }


@pytest.mark.large
def test_the_workflow_repeats_bit_for_bit(tmp_path):
    work = tmp_path / "work"
    first = workflow(work)
    work.rename(tmp_path / "first")
    second = workflow(work)
    for step in first:
        assert first[step] == second[step], step
    # The run really trained (not a constant model) and recorded what it did.
    assert len(first["cache"]) == 7 and first["summary"]["weights_sha256"]
    assert first["export"]["weights_sha256"] == first["summary"]["weights_sha256"]
