"""The `depnet` command: a thin layer over the library's functions."""

import argparse
import os
import sys

# TensorFlow's C++ start-up chatter (CUDA probing, CPU flags) is noise on a CLI.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from depnet_tf.cli import data, demo, deploy, summary, train, weights  # noqa: E402

COMMANDS = (demo, summary, weights, data, train, deploy)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="depnet",
        description="DepNet: depression severity (BDI-II) from face videos.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as error:
        print(f"depnet {args.command}: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        problem = _unreadable_frame(error)
        if problem is None:
            raise
        print(f"depnet {args.command}: error: {problem}", file=sys.stderr)
        return 2


def _unreadable_frame(error):
    """The one-line error for a face image that tf.data could not decode, else None."""
    if "tensorflow" not in sys.modules:
        return None
    import tensorflow as tf

    from depnet_tf.data.clips import frame_error

    return frame_error(error) if isinstance(error, tf.errors.OpError) else None


if __name__ == "__main__":
    sys.exit(main())
