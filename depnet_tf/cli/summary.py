"""`depnet summary`: build a model and print its layers, dimensions and sizes."""

from depnet_tf.cli.common import add_arch_option, add_command, print_json
from depnet_tf.cli.overrides import parse_overrides


def add_parser(subparsers):
    parser = add_command(
        subparsers, "summary", "print the layers, dimensions and parameter counts of a model"
    )
    add_arch_option(parser)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a DepNetConfig field, e.g. --set image_size=112",
    )
    parser.add_argument(
        "--full", action="store_true", help="also list every backbone layer (expand nested models)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the stage shapes and parameter counts as JSON"
    )
    parser.set_defaults(run=run)


def run(args):
    from depnet_tf.models import DepNetConfig, build_model
    from depnet_tf.models.summary import describe, stages

    config = DepNetConfig.from_dict(parse_overrides(args.set))
    model = build_model(args.arch, config)
    if args.json:
        print_json(stages(model))
        return 0
    model.summary(expand_nested=args.full, line_length=110)
    print(describe(model))
    return 0
