"""`depnet summary`: build a model and print its layers, dimensions and sizes."""

from depnet_tf.cli.overrides import parse_overrides


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "summary", help="print the layers, dimensions and parameter counts of a model"
    )
    parser.add_argument("--arch", default="depnet", help="depnet (default), senet-single, "
                        "resnet50-single or resnet50-sequence")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a DepNetConfig field, e.g. --set image_size=112")
    parser.add_argument("--full", action="store_true",
                        help="also list every backbone layer (expand nested models)")
    parser.set_defaults(run=run)


def run(args):
    from depnet_tf.models import DepNetConfig, build_model
    from depnet_tf.models.summary import describe

    config = DepNetConfig.from_dict(parse_overrides(args.set))
    model = build_model(args.arch, config)
    model.summary(expand_nested=args.full, line_length=110)
    print(describe(model))
    return 0
