"""`depnet train` and `depnet evaluate`."""

import json

from depnet_tf.cli.overrides import parse_overrides


def add_parser(subparsers):
    train = subparsers.add_parser("train", help="train as the paper did (SGD, inv policy, early stop)")
    train.add_argument("--config", required=True, help="YAML config, e.g. training/configs/avec2014.yaml")
    train.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override a config value, e.g. --set train.max_epochs=5")
    train.add_argument("--end-to-end", action="store_true",
                       help="train on frames instead of the feature cache")
    train.add_argument("--unfreeze-last-stage", action="store_true",
                       help="with --end-to-end: also train the backbone's last stage")
    train.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default",
                       help="tf.distribute strategy; multiworker reads TF_CONFIG")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=run_train)

    evaluate = subparsers.add_parser("evaluate", help="per-video RMSE/MAE of a saved model")
    evaluate.add_argument("model", help="a .keras file written by `depnet train`")
    evaluate.add_argument("manifest", help="manifest CSV")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--clips", type=int, default=10, help="evenly spread clips per video")
    evaluate.add_argument("--batch-size", type=int, default=8)
    evaluate.add_argument("--cache", help="evaluate on this feature cache instead of frames")
    evaluate.add_argument("-o", "--output", default="predictions.csv", help="per-video CSV")
    evaluate.set_defaults(run=run_evaluate)


def run_train(args):
    from depnet_tf.training.config import read_config
    from depnet_tf.training.trainer import train

    overrides = parse_overrides(args.set)
    if args.end_to_end:
        overrides["train.end_to_end"] = True
    if args.unfreeze_last_stage:
        overrides["train.unfreeze_last_stage"] = True
    config = read_config(args.config, overrides)
    summary = train(config, strategy=args.strategy, progress=not args.quiet)
    print(json.dumps(summary, indent=2, default=float))
    return 0


def run_evaluate(args):
    import keras

    from depnet_tf.atomic import atomic_path
    from depnet_tf.data import Manifest
    from depnet_tf.training.evaluation import evaluate_model, format_summary

    model = keras.saving.load_model(args.model)
    manifest = Manifest.read(args.manifest)
    table, summary = evaluate_model(model, manifest, args.split, clips=args.clips,
                                    batch_size=args.batch_size, cache=args.cache)
    with atomic_path(args.output) as temporary:
        table.to_csv(temporary, index=False)
    print(format_summary(summary, table))
    print(f"per-video predictions: {args.output}")
    return 0
