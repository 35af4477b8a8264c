"""`depnet export` and `depnet predict`."""

import os

from depnet_tf.cli.common import (
    CommandError,
    add_command,
    add_face_options,
    face_overrides,
    positive_int,
    print_json,
)
from depnet_tf.constants import EVAL_CLIPS, QUANTIZATIONS

SIGNATURES = ("serving_default", "serving_encoded")  # the SavedModel's, see export/README.md


def add_parser(subparsers):
    export = add_command(subparsers, "export", "write a TF-Serving SavedModel (and TFLite files)")
    export.add_argument("model", help="a .keras file written by `depnet train`")
    export.add_argument("--out", required=True, help="serving folder (gets NAME/VERSION/)")
    export.add_argument("--name", default="depnet", help="the TF-Serving model name")
    export.add_argument("--version", type=positive_int, default=1, help="the version number")
    export.add_argument(
        "--tflite",
        action="append",
        default=[],
        choices=QUANTIZATIONS,
        help="also write a TFLite file (repeatable)",
    )
    export.add_argument(
        "--onnx",
        action="store_true",
        help="also write an ONNX file (needs tf2onnx and onnxruntime)",
    )
    export.add_argument(
        "--report",
        help="a `depnet report` report.json whose test metrics go into the model card",
    )
    export.add_argument(
        "--report-model", help="the exported model's name in --report (if it holds several)"
    )
    export.add_argument("--force", action="store_true", help="replace an existing version")
    export.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="no TF-Serving warm-up requests in assets.extra",
    )
    export.set_defaults(run=run_export)

    predict = add_command(
        subparsers, "predict", "estimate the BDI-II score of a video or frame folder"
    )
    predict.add_argument("input", help="a video file or a folder of face frames (OpenFace layout)")
    predict.add_argument(
        "--model", required=True, help=".keras file, SavedModel folder, .tflite or .onnx file"
    )
    predict.add_argument(
        "--clips", type=positive_int, default=EVAL_CLIPS, help="evenly spread clips"
    )
    predict.add_argument("--json", action="store_true", help="machine-readable output")
    predict.add_argument(
        "--signature",
        choices=SIGNATURES,
        default=SIGNATURES[0],
        help="with a SavedModel: serving_encoded sends the frames' image bytes",
    )
    add_face_options(predict, "a video input", from_model=True)
    predict.set_defaults(run=run_predict)


def run_export(args):
    from depnet_tf import files
    from depnet_tf.errors import VersionExistsError
    from depnet_tf.evaluation.conformal import describe, read_calibration
    from depnet_tf.export import export_version
    from depnet_tf.export.model_card import report_record
    from depnet_tf.models.loading import load_regressor
    from depnet_tf.models.regressor import weights_hash

    model = load_regressor(args.model)
    calibration = read_calibration(args.model, weights_hash(model))
    report = None
    if args.report:
        report = report_record(args.report, args.report_model)
    elif args.report_model:
        raise CommandError("--report-model needs --report")
    try:
        written = export_version(
            model,
            args.out,
            args.name,
            args.version,
            tflite=args.tflite,
            onnx=args.onnx,
            force=args.force,
            calibration=calibration,
            warmup=args.warmup,
            model_path=args.model,
            report=report,
        )
    except VersionExistsError as error:
        raise CommandError(
            f"{error.target} {error.reason}; pick another --version or pass --force to replace it"
        ) from None
    state = "kept (it holds this model)" if written["reused"] else "written"
    print(
        f"SavedModel: {written['savedmodel']} {state} (signatures serving_default: frames "
        "uint8, and serving_encoded: frames_encoded image bytes -> bdi_ii, severity)"
    )
    print(f"interval: {describe(calibration)}")
    print(f"TF-Serving config: {os.path.join(args.out, 'models.config')}")
    print(f"model card: {written['model_card']} (+ .json)")
    for kind, path in written.items():
        if kind.startswith("tflite-") or kind == "onnx":
            label = f"TFLite ({kind.split('-', 1)[1]})" if kind != "onnx" else "ONNX"
            print(f"{label}: {path} ({files.size(path) / 1e6:.1f} MB) + .json")
    return 0


def run_predict(args):
    from depnet_tf.export import load_predictor, predict_path

    options = face_overrides(args)
    result = predict_path(
        args.input,
        load_predictor(args.model, signature=args.signature),
        clips=args.clips,
        progress=not args.quiet,
        **options,
    )
    if args.json:
        print_json(result)
        return 0
    print(
        f"{result['input']}: BDI-II {result['bdi_ii']:.1f} ({result['severity_name']}), "
        f"over {result['clips']} clips: std {result['std']:.2f}, "
        f"range {result['min']:.1f}-{result['max']:.1f}"
    )
    bounds = result["interval"]
    if bounds is not None:
        print(
            f"  {100 * (1 - bounds['alpha']):.0f}% prediction interval: "
            f"{bounds['lower']:.1f}-{bounds['upper']:.1f} (+- {bounds['q']:.1f}, split conformal)"
        )
    else:
        print(f"  {result['interval_note']}")
    return 0
