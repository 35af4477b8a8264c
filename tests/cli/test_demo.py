import re

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
