"""`depnet report` and `depnet calibrate`: statistics, figures and prediction intervals."""

import os

from depnet_tf import files
from depnet_tf.cli.common import add_command, print_json
from depnet_tf.constants import AVEC_DATASETS


def add_parser(subparsers):
    report = add_command(
        subparsers, "report", "statistics, paper's tests, comparisons and figures of predictions"
    )
    report.add_argument(
        "predictions",
        nargs="+",
        help="per-video CSVs from `depnet evaluate`, or experiment folders",
    )
    report.add_argument("--out", required=True, help="report folder")
    report.add_argument("--names", help="comma-separated model names, in input order")
    report.add_argument(
        "--calibration",
        nargs="+",
        metavar="DEV_PREDICTIONS",
        help="dev-set per-video CSVs, one per model, for conformal intervals",
    )
    report.add_argument(
        "--dataset",
        choices=AVEC_DATASETS,
        help="whose paper p-values to show (default: guessed from the paths)",
    )
    report.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples")
    report.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    report.add_argument(
        "--model",
        help="with --manifest: explain the first model's best- and "
        "worst-predicted videos with this .keras model (Grad-CAM)",
    )
    report.add_argument("--manifest", help="the manifest holding the videos' frames")
    report.add_argument(
        "--baseline",
        type=float,
        metavar="MEAN",
        help="the training-set mean label, drawn as the constant predictor",
    )
    report.set_defaults(run=run_report)

    calibrate = add_command(
        subparsers, "calibrate", "store a split conformal prediction interval with a model"
    )
    calibrate.add_argument("model", help="a .keras file (the interval goes beside it)")
    calibrate.add_argument("dev_predictions", help="its per-video dev-set CSV (depnet evaluate)")
    calibrate.add_argument(
        "--alpha", type=float, default=0.1, help="miscoverage: the interval covers 1 - alpha"
    )
    calibrate.set_defaults(run=run_calibrate)


def run_report(args):
    import pandas as pd

    from depnet_tf.cli.common import CommandError
    from depnet_tf.evaluation.report import (
        build_report,
        dataset_of_paths,
        gather_inputs,
        read_predictions,
        write_report,
    )

    names = args.names.split(",") if args.names else None
    inputs = gather_inputs(args.predictions, names)
    models = {name: table for name, (_, table) in inputs.items()}
    calibrations = None
    if args.calibration:
        if len(args.calibration) != len(models):
            raise CommandError(
                f"--calibration needs one CSV per model ({len(models)}); "
                f"got {len(args.calibration)}"
            )
        calibrations = {n: read_predictions(p) for n, p in zip(models, args.calibration)}
        for (name, (path, table)), calibration_path in zip(inputs.items(), args.calibration):
            check_same_model(table, path, calibrations[name], calibration_path)
    histories = {}
    for name, (path, _) in inputs.items():
        history = os.path.join(os.path.dirname(files.absolute(path)), "history.csv")
        if files.isfile(history):
            with files.open_file(history) as file:
                histories[name] = pd.read_csv(file)
    dataset = args.dataset or dataset_of_paths(args.predictions)
    report = build_report(models, calibrations, dataset, args.resamples, args.seed)
    pictures = None
    if args.model or args.manifest:
        if not (args.model and args.manifest):
            raise CommandError("--model and --manifest go together (to explain videos)")
        pictures = explain_first_model(args, models)
    written = write_report(report, models, args.out, histories, args.baseline, pictures)
    for name, entry in report["models"].items():
        metrics, ci = entry["metrics"], entry["ci95"]
        print(
            f"{name}: RMSE {metrics['rmse']:.2f} [{ci['rmse'][0]:.2f}, {ci['rmse'][1]:.2f}], "
            f"MAE {metrics['mae']:.2f} [{ci['mae'][0]:.2f}, {ci['mae'][1]:.2f}] "
            f"(n={entry['n']}, resampling {entry['resampled']})"
        )
    print(f"report: {written['index.html']} (and report.json, tables.md, tables.tex, figures/)")
    return 0


def run_calibrate(args):
    from depnet_tf.cli.common import CommandError
    from depnet_tf.evaluation.conformal import calibrate_model, describe
    from depnet_tf.evaluation.report import read_predictions
    from depnet_tf.export.provenance import model_weights_sha256

    if not files.exists(args.model):
        raise CommandError(f"{args.model}: no such model file or folder")
    table = read_predictions(args.dev_predictions)
    path, record = calibrate_model(
        args.model, model_weights_sha256(args.model), table, args.dev_predictions, args.alpha
    )
    print_json({**record, "stored": path, "description": describe(record)})
    return 0


def check_same_model(table, path, other, other_path):
    """Refuse two predictions files that record different models (unrecorded: accepted)."""
    from depnet_tf.errors import DataError
    from depnet_tf.evaluation.per_video import model_of

    first, second = model_of(table, path), model_of(other, other_path)
    if first and second and first != second:
        raise DataError(
            f"{other_path}: predictions of the model with weights {second}, but {path} "
            f"holds those of {first}; a model's calibration must be its own"
        )


def explain_first_model(args, models):
    """Grad-CAM grids of the first model's best- and worst-predicted videos: {title: PNG}."""
    from depnet_tf.data import Manifest
    from depnet_tf.errors import DataError
    from depnet_tf.evaluation.per_video import model_of
    from depnet_tf.explain import explain_extremes
    from depnet_tf.models.loading import load_regressor
    from depnet_tf.models.regressor import weights_hash

    name, table = next(iter(models.items()))
    model = load_regressor(args.model)
    made_by, digest = model_of(table, name), weights_hash(model)
    if made_by and made_by != digest:
        raise DataError(
            f"{args.model}: has weights {digest}, but the predictions of {name!r} "
            f"were made by {made_by}; explain the model that made them"
        )
    found = explain_extremes(
        model,
        Manifest.read(args.manifest),
        table,
        os.path.join(args.out, "explain"),
    )
    return {
        f"Explanation ({name}), {kind}-predicted video {r['video_id']} "
        f"(error {r['error']:.1f}): clip 0": r["clips"][0]["grid"]
        for kind, r in found.items()
    }
