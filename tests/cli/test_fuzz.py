"""Seeded fuzzing of the two files users take from other people: manifests and configs.

Every case runs through the `depnet` entry point (`cli.main.main`, in this
process for speed; a handful as real processes at the end) and must either
succeed or end in one `depnet CMD: error: ...` line that names the file, within
a time bound; and no case may write anything outside the output folder it was
given. The cases are drawn from a fixed seed, so a failure repeats.
"""

import os
import random
import time

import pandas as pd
import pytest

from depnet_tf.cli.main import main
from tests.cli.process import depnet
from tests.training.workspace import MODEL, write_frames

MODEL_FLAGS = [f"--set={key}={value}" for key, value in MODEL.items()]
SECONDS_PER_CASE = 60  # a refused case takes well under a second; a cached one a few
HOSTILE_IDS = [
    "../escape",
    "../../escape",
    "..",
    ".",
    ".hidden",
    "/tmp/depnet-fuzz-absolute",
    "sub/dir",
    "a\\b",
    "nul\x00byte",
    "tab\tin",
    "line\nbreak",
    "bell\x07",
    "x" * 129,
    "é" * 70,  # 140 bytes in UTF-8
    "",
    "   ",
]
BENIGN_IDS = ["v-1", "vidéo", "x" * 128, "with space", "a..b", "CAPS_01", "日本"]
LABELS = ["5", "63", "0", "-1", "64", "nan", "inf", "x", "", "1e400", "12.5"]
SPLITS = ["train", "dev", "", "tr ain"]


def _snapshot(root, skip):
    """Every path under `root` (files and folders), except those under `skip`."""
    found = set()
    for folder, folders, names in os.walk(root):
        for name in folders + names:
            path = os.path.join(folder, name)
            if not path.startswith(skip):
                found.add(path)
    return found


def _run(argv, capsys):
    """(exit status, stderr lines, seconds) of one in-process `depnet` call."""
    start = time.monotonic()
    code = main([str(a) for a in argv])
    seconds = time.monotonic() - start
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()], seconds


def _check_refusal(code, lines, command, names):
    assert code in (0, 1, 2), (code, lines)
    if code == 2:
        errors = [line for line in lines if line.startswith(f"depnet {command}: error: ")]
        assert len(errors) == 1, lines
        line = errors[0]
        assert len(line) < 600, line  # an excerpt, never an expanded value
        assert any(str(name) in line for name in names), line


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-frames")
    write_frames(str(root), videos=2, frames=3)
    return [str(root / "v0_aligned"), str(root / "v1_aligned")]


def _manifest_rows(rng, frames):
    rows = []
    for index in range(2):
        rows.append(
            {
                "video_id": f"v{index}",
                "frames": frames[index],
                "label": str(10 + index),
                "split": "train",
                "subject": f"s{index}",
            }
        )
    for _ in range(rng.randint(1, 3)):
        row = rng.choice(rows)
        column = rng.choice(["video_id", "video_id", "subject", "label", "split", "frames"])
        if column in ("video_id", "subject"):
            row[column] = rng.choice(HOSTILE_IDS + BENIGN_IDS)
        elif column == "label":
            row["label"] = rng.choice(LABELS)
        elif column == "split":
            row["split"] = rng.choice(SPLITS)
        else:
            row["frames"] = rng.choice(["../nowhere", "/nonexistent", frames[0], ""])
    return rows


def test_fuzzed_manifests_never_write_outside_the_cache_folder(tmp_path, frames, capsys):
    rng = random.Random(20261130)
    outcomes = {0: 0, 1: 0, 2: 0}
    for case in range(120):
        work = tmp_path / f"case{case}"
        (work / "deep" / "er").mkdir(parents=True)
        manifest = work / "deep" / "manifest.csv"
        pd.DataFrame(_manifest_rows(rng, frames)).to_csv(manifest, index=False)
        out = work / "deep" / "er" / "cache"
        before = _snapshot(tmp_path, str(out))
        argv = ["-q", "cache", manifest, "--out", out, *MODEL_FLAGS]
        code, lines, seconds = _run(argv, capsys)
        assert seconds < SECONDS_PER_CASE, (case, seconds)
        _check_refusal(code, lines, "cache", [manifest])
        assert _snapshot(tmp_path, str(out)) == before, (case, lines)
        assert not os.path.exists("/tmp/depnet-fuzz-absolute.npz")
        outcomes[code] += 1
    # Both kinds happen: the fuzzing reaches the cache, and it reaches the refusals.
    assert outcomes[0] >= 6 and outcomes[2] >= 60, outcomes


CONFIG_VALUES = [
    5,
    3.5,
    None,
    -1,
    0,
    2**70,
    10**6,
    "x",
    "",
    True,
    [],
    [1000000000],
    [3, 5, 9],
    {"a": 1},
    float("nan"),
    float("inf"),
    "nul\x00",
]
CONFIG_KEYS = [
    "model.num_frames",
    "model.image_size",
    "model.temporal_kernels",
    "model.channel_pool",
    "model.fc_units",
    "model.dropout",
    "model.stem",
    "model.freeze_backbone",
    "model.backbone_weights",
    "model.unknown",
    "data.seed",
    "data.batch_size",
    "data.clips_per_video",
    "data.train_split",
    "data.cache",
    "train.base_lr",
    "train.momentum",
    "train.max_epochs",
    "train.end_to_end",
    "train.unfreeze_last_stage",
    "train.out_dir",
    "arch",
    "nosuch.key",
]


# A valid value for some keys, so that part of the cases pass the config check.
VALID = {
    "model.num_frames": 3,
    "model.image_size": 32,
    "model.temporal_kernels": [3, 5],
    "model.fc_units": 8,
    "model.dropout": 0.25,
    "data.seed": 4294967295,
    "data.batch_size": 2,
    "train.base_lr": 0.001,
    "train.max_epochs": 2,
}


def _yaml_value(value):
    """`value` as YAML flow text (the fuzz builds the text itself, to reach any byte)."""
    if isinstance(value, float) and value != value:
        return ".nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    if value is None:
        return "null"
    if value is True or value is False:
        return str(value).lower()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace("\x00", "\\0").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _config_text(rng, manifest):
    sections = {"data": {"manifest": f'"{manifest}"'}}
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(CONFIG_KEYS)
        section, _, name = key.rpartition(".")
        valid = key in VALID and rng.random() < 0.6
        value = _yaml_value(VALID[key] if valid else rng.choice(CONFIG_VALUES))
        if section:
            sections.setdefault(section, {})[name] = value
        else:
            sections[name] = value
    shape = rng.random()
    if shape < 0.08:  # deeply nested, as a list or a map
        depth = rng.choice([20, 300, 3000])
        sections.setdefault("model", {})["fc_units"] = "[" * depth + "]" * depth
    elif shape < 0.14:  # a "billion laughs" of aliases
        return (
            'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
            "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            "train: {out_dir: *c}\n"
        )
    elif shape < 0.18:  # not YAML at all
        return "model: {num_frames: [\n\t: :"
    lines = []
    for section, values in sections.items():
        if isinstance(values, dict):
            lines.append(f"{section}:")
            lines += [f"  {key}: {value}" for key, value in values.items()]
        else:
            lines.append(f"{section}: {values}")
    return "\n".join(lines) + "\n"


def test_fuzzed_configs_end_in_one_line_naming_the_file(tmp_path, capsys):
    rng = random.Random(30112026)
    missing = tmp_path / "no-manifest.csv"  # a valid config then stops at the data, quickly
    outcomes = {}
    for case in range(240):
        config = tmp_path / f"config{case}.yaml"
        config.write_text(_config_text(rng, missing), encoding="utf-8")
        code, lines, seconds = _run(["-q", "train", "--config", config], capsys)
        assert seconds < SECONDS_PER_CASE, (case, seconds)
        assert code == 2, (case, lines)  # the data never exists, so nothing may succeed
        _check_refusal(code, lines, "train", [config, missing])
        reached_data = str(missing) in lines[-1]
        outcomes[reached_data] = outcomes.get(reached_data, 0) + 1
    assert outcomes.get(True, 0) >= 10 and outcomes.get(False, 0) >= 100, outcomes
    assert not (tmp_path / "runs").exists()


def test_fuzzed_overrides_end_in_one_line(tmp_path, capsys):
    rng = random.Random(7)
    config = tmp_path / "config.yaml"
    config.write_text(f'data: {{manifest: "{tmp_path / "none.csv"}"}}\n')
    for case in range(120):
        key = rng.choice(CONFIG_KEYS)
        value = rng.choice(
            [_yaml_value(rng.choice(CONFIG_VALUES)), "[" * 3000, "{a: " * 3000, "&a [*a]", "'"]
        )
        code, lines, seconds = _run(
            ["-q", "train", "--config", config, "--set", f"{key}={value}"], capsys
        )
        assert seconds < SECONDS_PER_CASE and code == 2, (case, key, value, lines)
        _check_refusal(code, lines, "train", [config, "--set", "none.csv"])


@pytest.mark.parametrize("case", range(3))
def test_a_few_fuzzed_configs_as_processes(tmp_path, case):
    rng = random.Random(1000 + case)
    missing = tmp_path / "no-manifest.csv"
    config = tmp_path / "config.yaml"
    for _ in range(5):  # a refused one, not the plain missing-manifest case
        text = _config_text(rng, missing)
        if "manifest" not in text or "*" in text or "[[" in text:
            break
    config.write_text(text, encoding="utf-8")
    result = depnet("train", "--config", config, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("depnet train: error: "), lines
    assert str(config) in lines[0] or str(missing) in lines[0], lines
