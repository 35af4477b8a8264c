"""`depnet configs [show NAME]`: the configs shipped with depnet_tf."""

from depnet_tf.cli.common import CommandError, add_command


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "configs",
        "list the shipped training configs, or show one with its base chain resolved",
    )
    parser.add_argument("action", nargs="?", choices=["show"], help="show one config")
    parser.add_argument("name", nargs="?", help="a shipped config's name (with `show`)")
    parser.set_defaults(run=run)


def run(args):
    from depnet_tf import configs

    if args.action is None:
        if args.name:
            raise CommandError(f"did you mean `depnet configs show {args.name}`?")
        names = configs.names()
        width = max(map(len, names))
        for name in names:
            print(f"{name:{width}}  {configs.describe(name)}")
        return 0
    if not args.name:
        raise CommandError("`depnet configs show` needs a NAME; `depnet configs` lists them")
    path = configs.path(args.name)
    if path is None:
        raise CommandError(
            f"no shipped config {args.name!r}; shipped: {', '.join(configs.names())}"
        )
    import yaml

    from depnet_tf.training.config import load_yaml

    print(f"# {args.name}: {configs.describe(args.name)}")
    print("# its `base:` chain resolved; `depnet train --config NAME` adds the defaults")
    print(yaml.safe_dump(load_yaml(path), sort_keys=False).rstrip())
    return 0
