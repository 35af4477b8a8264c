"""What every `depnet` command shares: options, argument types, help format, skipped items."""

import argparse
import json
import sys

from depnet_tf.constants import (
    ARCH_NAMES,
    CROP_MODES,
    FACE_DETECT_SIZE,
    FACE_EVERY,
    FACE_MAX_FRAMES,
)


class CommandError(Exception):
    """A bad command-line argument; the message names the flag."""


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, as `(default X)`."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS, []):
            return text
        if action.option_strings and action.nargs != 0:
            return f"{text} (default %(default)s)"
        return text


def add_common_options(parser, top_level=False):
    """-q/-v and --debug, accepted before or after the command name."""
    # Sub-commands must not overwrite what was given before the command name.
    default = (lambda value: value) if top_level else (lambda value: argparse.SUPPRESS)
    parser.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=default(0),
        help="less output: errors only, no progress bars",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="more output, TensorFlow's own logs included",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show the traceback of an error (or set DEPNET_DEBUG=1)",
    )


def add_command(subparsers, name, help_text):
    """A sub-command parser with the common options and the shared help format."""
    parser = subparsers.add_parser(
        name, help=help_text, description=help_text, formatter_class=HelpFormatter
    )
    add_common_options(parser)
    return parser


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def add_arch_option(parser, default="depnet", help_text="model architecture"):
    parser.add_argument("--arch", choices=ARCH_NAMES, default=default, help=help_text)


def print_json(value):
    """The command's result on standard output, and nothing else there."""
    print(json.dumps(value, indent=2, default=float))


def report_skipped(failures, what):
    """Name each skipped item on standard error; the exit status is 1 when any were.

    1 means only this: the command finished, and skipped the items it names
    (2 is bad input or usage, 70 an internal error; see `cli.main`).
    """
    for item, message in failures:
        print(f"skipped {item}: {message}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} {what} skipped", file=sys.stderr)
        return 1
    return 0


def progress_enabled(args):
    return not args.quiet


def add_face_options(parser, what="videos", from_model=False):
    """How faces are sampled, detected and cropped from video files.

    `faces` takes these with `depnet faces`' defaults. `predict` and `explain`
    (`from_model`) default to what the model recorded of its training faces,
    so a video is scored on crops made as the model's training crops were;
    a flag given overrides that one setting.
    """
    group = parser.add_argument_group(f"face extraction (for {what})")

    def default(value, text):
        if from_model:
            return None, f"{text} (default: as the model's training faces, else {value})"
        return value, text

    every, every_help = default(FACE_EVERY, "sample every N-th frame")
    group.add_argument("--every", type=positive_int, default=every, help=every_help)
    most, most_help = default(FACE_MAX_FRAMES, "then keep at most N frames, evenly spread; 0 all")
    group.add_argument("--max-frames", type=int, default=most, help=most_help)
    crop, crop_help = default(CROP_MODES[0], "5-point alignment to a loose template, or a box")
    group.add_argument("--crop", choices=CROP_MODES, default=crop, help=crop_help)
    size, size_help = default(FACE_DETECT_SIZE, "longer side frames are shrunk to for detection")
    group.add_argument("--detect-size", type=positive_int, default=size, help=size_help)
    if from_model:
        group.add_argument(
            "--face-size",
            type=positive_int,
            help="side of the face crops, before the model's own resize (default: as the "
            "model's training faces, else the model's input size)",
        )


def face_options(args):
    """(detector, keyword arguments of `extract_faces`) from `add_face_options`' flags."""
    from depnet_tf.faces.detector import FaceDetector

    _check_max_frames(args.max_frames)
    options = {"every": args.every, "max_frames": args.max_frames or None, "crop": args.crop}
    return FaceDetector(detect_size=args.detect_size), options


def face_overrides(args):
    """The face settings given on the command line (`from_model` flags), for `replay_settings`."""
    if args.max_frames is not None:
        _check_max_frames(args.max_frames)
    return {
        "size": args.face_size,
        "crop": args.crop,
        "every": args.every,
        "max_frames": args.max_frames,
        "detect_size": args.detect_size,
    }


def _check_max_frames(value):
    if value < 0:
        raise CommandError(f"--max-frames must be 0 (all) or more. Received: {value}")
