"""`depnet provenance PATH`: what made an artifact, from what, with which digests."""

from depnet_tf.cli.common import add_command, print_json


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "provenance",
        "print the chain behind a model, export, predictions CSV, calibration or cache",
    )
    parser.add_argument(
        "path",
        help="a .keras file or run folder, a SavedModel (or serving folder), a .tflite/.onnx "
        "file, a predictions CSV, a calibration record, a cache folder or a faces record",
    )
    parser.add_argument("--json", action="store_true", help="print the chain as JSON")
    parser.set_defaults(run=run)


def run(args):
    from depnet_tf.export.provenance import trace

    chain = trace(args.path)
    if args.json:
        print_json(chain)
        return 0
    print("\n".join(render(chain)))
    return 0


def render(value, indent=0):
    """A nested dict as indented `key: value` lines."""
    pad = "  " * indent
    lines = []
    for key, item in value.items():
        if isinstance(item, dict) and item:
            lines.append(f"{pad}{key}:")
            lines += render(item, indent + 1)
        elif isinstance(item, list):
            lines.append(f"{pad}{key}: {', '.join(map(str, item)) or 'none'}")
        else:
            lines.append(f"{pad}{key}: {'none' if item is None else item}")
    return lines
