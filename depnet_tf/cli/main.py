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


if __name__ == "__main__":
    sys.exit(main())
