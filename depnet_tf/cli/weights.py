"""`depnet weights inspect|convert`: look into and convert VGGFace2 SENet50 weight files."""

from depnet_tf.cli.common import HelpFormatter, add_command, add_common_options, print_json


def add_parser(subparsers):
    parser = add_command(subparsers, "weights", "inspect or convert SENet50 weight files")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    inspect = actions.add_parser(
        "inspect", help="report a file's format, layers and fit", formatter_class=HelpFormatter
    )
    add_common_options(inspect)
    inspect.add_argument("path", help="a keras-vggface .h5, VGGFace2-pytorch .pkl or .weights.h5")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    inspect.set_defaults(run=run_inspect)
    convert = actions.add_parser(
        "convert", help="write our .weights.h5 and verify it", formatter_class=HelpFormatter
    )
    add_common_options(convert)
    convert.add_argument("source", help="a keras-vggface .h5, VGGFace2-pytorch .pkl or .weights.h5")
    convert.add_argument("destination", help="output path, ending in .weights.h5")
    convert.set_defaults(run=run_convert)


def run_inspect(args):
    from depnet_tf.weights import inspect_weights

    info = inspect_weights(args.path)
    if args.json:
        print_json(info)
        return 0 if info["fits"] else 1
    print(f"file:        {info['path']}")
    print(f"format:      {info['format']} (stem={info['stem']!r})")
    print(f"layers:      {info['layers']} with weights, {info['parameters']:,} parameters")
    print(f"classifier:  {'yes' if info['include_top'] else 'no'}")
    if info["fits"]:
        print(f"fits SENet50(stem={info['stem']!r}): yes")
        return 0
    print(f"fits SENet50(stem={info['stem']!r}): NO: {info['problems']}")
    return 1


def run_convert(args):
    from depnet_tf.weights import convert_weights

    report = convert_weights(args.source, args.destination)
    print(report.summary())
    print(f"wrote {args.destination} and verified it by reloading")
    return 0
