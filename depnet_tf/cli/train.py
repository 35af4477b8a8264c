"""`depnet train` and `depnet evaluate`."""

import os
import sys

from depnet_tf.cli.common import add_command, positive_int, print_json, progress_enabled
from depnet_tf.cli.overrides import parse_overrides
from depnet_tf.constants import EVAL_CLIPS, STRATEGIES


def add_parser(subparsers):
    train = add_command(subparsers, "train", "train as the paper did (SGD, inv policy, early stop)")
    train.add_argument(
        "--config",
        required=True,
        help="a YAML config file, or a shipped config by name (`depnet configs` lists them)",
    )
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. --set train.max_epochs=5",
    )
    train.add_argument(
        "--end-to-end", action="store_true", help="train on frames instead of the feature cache"
    )
    train.add_argument(
        "--unfreeze-last-stage",
        action="store_true",
        help="with --end-to-end: also train the backbone's last stage",
    )
    train.add_argument(
        "--restart",
        action="store_true",
        help="start over in train.out_dir, discarding a killed run's backup and history "
        "(a backup of another config is refused without it)",
    )
    train.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=STRATEGIES[0],
        help="tf.distribute strategy; multiworker reads TF_CONFIG",
    )
    train.set_defaults(run=run_train)

    evaluate = add_command(subparsers, "evaluate", "per-video RMSE/MAE of a saved model")
    evaluate.add_argument("model", help="a .keras file written by `depnet train`")
    evaluate.add_argument("manifest", help="manifest CSV")
    evaluate.add_argument("--split", default="test", help="the manifest split to score")
    evaluate.add_argument(
        "--clips", type=positive_int, default=EVAL_CLIPS, help="evenly spread clips per video"
    )
    evaluate.add_argument("--batch-size", type=positive_int, default=8, help="clips per batch")
    evaluate.add_argument("--cache", help="evaluate on this feature cache instead of frames")
    evaluate.add_argument(
        "-o",
        "--output",
        default="predictions.csv",
        help="per-video CSV; the per-clip CSV goes beside it as NAME.clips.csv",
    )
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(run=run_evaluate)


def run_train(args):
    """Train; the summary (JSON) is the only thing on standard output."""
    from depnet_tf.training.config import read_config
    from depnet_tf.training.trainer import train

    overrides = parse_overrides(args.set)
    if args.end_to_end:
        overrides["train.end_to_end"] = True
    if args.unfreeze_last_stage:
        overrides["train.unfreeze_last_stage"] = True
    config = read_config(args.config, overrides)
    summary = train(
        config, strategy=args.strategy, progress=progress_enabled(args), restart=args.restart
    )
    print_json(summary)
    return 0


def clips_csv_path(output):
    """Where the per-clip CSV goes beside the per-video one: `NAME.clips.csv`."""
    root, ext = os.path.splitext(output)
    return f"{root}.clips{ext or '.csv'}"


def run_evaluate(args):
    from depnet_tf.data import Manifest
    from depnet_tf.evaluation import evaluate_split, format_summary
    from depnet_tf.files import atomic_path
    from depnet_tf.models.loading import load_regressor

    model = load_regressor(args.model)
    manifest = Manifest.read(args.manifest)
    result = evaluate_split(
        model,
        manifest,
        args.split,
        clips=args.clips,
        batch_size=args.batch_size,
        cache=args.cache,
        progress=progress_enabled(args),
    )
    clips_path = clips_csv_path(args.output)
    for table, path in ((result.videos, args.output), (result.clips, clips_path)):
        with atomic_path(path) as temporary:
            table.to_csv(temporary, index=False)
    if args.json:
        print_json({**result.summary, "predictions_csv": args.output, "clips_csv": clips_path})
        return 0
    print(format_summary(result.summary, result.videos))
    print(f"per-video predictions: {args.output}; per-clip: {clips_path}", file=sys.stderr)
    return 0
