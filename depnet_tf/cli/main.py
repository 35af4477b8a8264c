"""The `depnet` command: a thin layer over the library's functions.

Each command maps the package's errors, `OSError` and TensorFlow's errors to one
`depnet CMD: error: ...` line and a non-zero exit; `--debug` (or
`DEPNET_DEBUG=1`) shows the traceback instead. TensorFlow's C++ start-up logs
are silenced before TensorFlow loads, unless `-v`.
"""

import argparse
import logging
import os
import sys
import traceback

from depnet_tf import __version__
from depnet_tf.cli import (
    configs,
    data,
    demo,
    deploy,
    experiment,
    explain,
    provenance,
    report,
    summary,
    train,
    weights,
)
from depnet_tf.cli.common import CommandError, HelpFormatter, add_common_options

COMMANDS = (
    demo,
    summary,
    weights,
    data,
    configs,
    train,
    experiment,
    report,
    deploy,
    explain,
    provenance,
)
# Exit statuses (the README's "Exit status" lists them):
EXIT_SKIPPED = 1  # a batch command finished but skipped bad items (`common.report_skipped`)
EXIT_ERROR = 2  # bad input or usage: the one-line message explains it (argparse's too)
EXIT_UNEXPECTED = 70  # an internal error, a bug: EX_SOFTWARE of BSD's sysexits.h
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="depnet",
        description="DepNet: depression severity (BDI-II) from face videos.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_text())
    add_common_options(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def version_text():
    from importlib import metadata

    parts = [f"depnet_tf {__version__}"]
    for package in ("tensorflow", "keras"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(parts)


def quiet_tensorflow(verbose):
    """Load TensorFlow with its C++ start-up logs silenced, unless `verbose`.

    TensorFlow 2.21 writes its start-up lines (oneDNN, CPU flags, the CUDA
    probe, `E0000 ... cuInit`) through absl before absl is initialised, so
    `TF_CPP_MIN_LOG_LEVEL` cannot hide them. They are written while TensorFlow
    loads and first lists its devices: standard error (file descriptor 2) is
    pointed at /dev/null for exactly that, then restored. Later messages obey
    `TF_CPP_MIN_LOG_LEVEL` (3 unless the user set it).
    """
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def setup_logging(verbosity):
    """Our messages (and Python warnings) on standard error: -q errors only, -v debug."""
    level = {-1: logging.ERROR, 0: logging.INFO, 1: logging.DEBUG}[max(-1, min(1, verbosity))]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("depnet_tf")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.handlers[:] = [handler]
    warnings_logger.setLevel(logging.WARNING if verbosity >= 0 else logging.ERROR)
    warnings_logger.propagate = False
    for noisy in ("tensorflow", "absl", "h5py"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbosity > 0 else logging.ERROR)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    verbosity = args.verbose - args.quiet
    debug = args.debug or os.environ.get("DEPNET_DEBUG", "") not in ("", "0")
    setup_logging(verbosity)
    try:
        quiet_tensorflow(verbosity > 0)
        return args.run(args)
    except KeyboardInterrupt:
        print(f"depnet {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        message, code = describe_error(error)
        if debug:  # the traceback, but the same exit status as without --debug
            traceback.print_exc()
        print(f"depnet {args.command}: {message}", file=sys.stderr)
        return code


def describe_error(error):
    """(the one-line message, exit code) of an exception that ended a command."""
    from depnet_tf.errors import DepNetError
    from depnet_tf.files import storage_error

    if isinstance(error, (DepNetError, CommandError)):
        return f"error: {one_line(error)}", EXIT_ERROR
    if isinstance(error, OSError):
        path = error.filename or ""
        converted = storage_error(error, path) if path else None
        text = (
            one_line(converted)
            if converted
            else f"{path + ': ' if path else ''}{error.strerror or error}"
        )
        return f"error: {text}", EXIT_ERROR
    problem = _tensorflow_error(error)
    if problem is not None:
        return f"error: {problem}", EXIT_ERROR
    if isinstance(error, ValueError):
        return f"error: {one_line(error)}", EXIT_ERROR
    hint = "run with --debug (or DEPNET_DEBUG=1) for the traceback"
    return f"unexpected error: {type(error).__name__}: {one_line(error)} ({hint})", EXIT_UNEXPECTED


def one_line(error):
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _tensorflow_error(error):
    """One line for a TensorFlow error: an unreadable face image, a full disk or memory."""
    if "tensorflow" not in sys.modules:
        return None
    import tensorflow as tf

    if not isinstance(error, tf.errors.OpError):
        return None
    from depnet_tf.data.frames import frame_error, op_error_reason

    problem = frame_error(error)
    if problem is not None:
        return str(problem)
    reason = op_error_reason(error)
    if isinstance(error, tf.errors.ResourceExhaustedError):
        return f"out of disk space or memory ({reason})"
    return reason


if __name__ == "__main__":
    sys.exit(main())
