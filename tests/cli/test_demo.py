import re
import zipfile

import pytest

from depnet_tf.cli.main import build_parser
from depnet_tf.demo import DemoSettings


def test_help_states_the_real_defaults(capsys):
    parser = build_parser()
    try:
        parser.parse_args(["demo", "--help"])
    except SystemExit:
        pass
    text = " ".join(capsys.readouterr().out.split())
    defaults = DemoSettings()
    for option, field in [
        ("--videos", "num_videos"),
        ("--frames", "frames_per_video"),
        ("--epochs", "max_epochs"),
        ("--image-size", "image_size"),
    ]:
        match = re.search(re.escape(option) + r" \S+ [^()]*\(default (\d+)\)", text)
        assert match and int(match.group(1)) == getattr(defaults, field), option


@pytest.mark.large
def test_two_fresh_demo_runs_give_identical_numbers(tmp_path):
    """`depnet demo` twice, each a fresh process with the same seed: the same report.

    Both run under `mixed_bfloat16` (the float32 demo runs in tests/demo): the
    whole chain (cache, training, evaluation, explanations, export, prediction)
    under a mixed policy, and 16-bit runs repeat bit for bit too.
    """
    import json

    from tests.cli.process import depnet

    reports = []
    for run in ("a", "b"):
        out = tmp_path / run
        result = depnet(
            "-q", "demo", "--out", out, "--videos", 8, "--frames", 6, "--epochs", 1,
            "--image-size", 32, "--seed", 5, "--precision", "mixed_bfloat16",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads((out / "report.json").read_text())
        reports.append(json.loads(json.dumps(report).replace(str(out), "OUT")))
    first, second = reports
    for report in reports:  # timings differ, everything else must not
        report.pop("seconds"), report.pop("stage_seconds", None)
    assert first == second
    assert first["rmse"] > 0 and first["prediction"]["savedmodel_bdi_ii"] >= 0
    assert first["precision"] == "mixed_bfloat16"
    run = tmp_path / "a" / "run"
    assert "precision: mixed_bfloat16" in (run / "config.yaml").read_text()
    with zipfile.ZipFile(run / "model.keras") as saved:  # the .keras file's own config
        config = json.loads(saved.read("config.json"))["config"]["config"]
    assert config["precision"] == "mixed_bfloat16"
