"""What every `depnet` command shares: options, argument types, help format, skipped items."""

import argparse
import json
import sys

from depnet_tf.constants import ARCH_NAMES


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
    """Name each skipped item on standard error; the exit status is 1 when any were."""
    for item, message in failures:
        print(f"skipped {item}: {message}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} {what} skipped", file=sys.stderr)
        return 1
    return 0


def progress_enabled(args):
    return not args.quiet
