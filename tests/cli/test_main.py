from depnet_tf.cli.main import main
from depnet_tf.cli.overrides import parse_overrides


def test_summary_prints_stage_shapes(capsys):
    code = main(
        ["summary", "--set", "image_size=32", "--set", "num_frames=3", "--set", "fc_units=4"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "llf                (None, 3, 1, 1, 2048)" in out
    assert "hlf                (None, 1, 256, 64)" in out
    assert "trainable params" in out


def test_bad_config_is_one_line_error(capsys):
    assert main(["summary", "--set", "channel_pool=3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("depnet summary: error: DepNetConfig.channel_pool must divide 2048")


def test_parse_overrides_types():
    assert parse_overrides(["a=1", "b=0.5", "c=[3, 5]", "d=null", "e=x.h5"]) == {
        "a": 1,
        "b": 0.5,
        "c": [3, 5],
        "d": None,
        "e": "x.h5",
    }


def test_unexpected_errors_are_one_line_with_a_debug_hint():
    from depnet_tf.cli.main import describe_error

    message, code = describe_error(TypeError("unsupported operand\ntype(s)"))
    assert code == 70 and "\n" not in message  # EX_SOFTWARE, not the "skipped" status 1
    assert message == (
        "unexpected error: TypeError: unsupported operand type(s) "
        "(run with --debug (or DEPNET_DEBUG=1) for the traceback)"
    )
    message, code = describe_error(PermissionError(13, "Permission denied", "/root/x"))
    assert code == 2 and message == "error: /root/x: cannot write (permission denied)"


def test_a_command_prints_no_tensorflow_start_up_lines():
    import re

    from tests.cli.process import depnet

    result = depnet(
        "summary",
        "--set",
        "image_size=32",
        "--set",
        "fc_units=4",
        "--json",
        env={"TF_CPP_MIN_LOG_LEVEL": "0"},
    )
    assert result.returncode == 0, result.stderr
    assert not re.search(r"[IWE]0000|cuInit|oneDNN|absl::InitializeLog", result.stderr), (
        result.stderr
    )
    assert result.stdout.lstrip().startswith("{")  # JSON only on stdout
    version = depnet("--version")
    assert version.returncode == 0 and version.stdout.startswith("depnet_tf 0.1.0, tensorflow")


def test_faces_predict_and_explain_extract_faces_alike(tmp_path, capsys):
    from depnet_tf.cli.main import build_parser

    parser = build_parser()
    face_flags = ["--every", "2", "--max-frames", "50", "--crop", "box", "--detect-size", "160"]
    keys = ("every", "max_frames", "crop", "detect_size")
    parsed = [
        parser.parse_args(["faces", "v.mp4", "--out", "o", *face_flags]),
        parser.parse_args(["predict", "v.mp4", "--model", "m.keras", *face_flags]),
        parser.parse_args(["explain", "v.mp4", "--model", "m.keras", "--out", "o", *face_flags]),
    ]
    assert {tuple(getattr(a, k) for k in keys) for a in parsed} == {(2, 50, "box", 160)}
    defaults = [
        parser.parse_args(["faces", "v.mp4", "--out", "o"]),
        parser.parse_args(["predict", "v.mp4", "--model", "m.keras"]),
        parser.parse_args(["explain", "v.mp4", "--model", "m.keras", "--out", "o"]),
    ]
    # faces states its defaults; predict and explain default to what the model recorded of
    # its training faces (None here), and to faces' own defaults when it recorded nothing.
    from depnet_tf.faces.extract import replay_settings

    assert {tuple(getattr(a, k) for k in keys) for a in defaults[1:]} == {(None,) * 4}
    unrecorded = replay_settings(None, 64)
    assert tuple(getattr(defaults[0], k) for k in keys) == tuple(unrecorded[k] for k in keys)

    for argv in (
        ["faces", str(tmp_path), "--out", str(tmp_path / "o")],
        ["predict", str(tmp_path), "--model", str(tmp_path / "m.keras")],
    ):
        assert main([*argv, "--max-frames", "-1"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.endswith("error: --max-frames must be 0 (all) or more. Received: -1"), err
