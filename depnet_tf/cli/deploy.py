"""`depnet export` and `depnet predict`."""

import json
import os


def add_parser(subparsers):
    export = subparsers.add_parser("export", help="write a TF-Serving SavedModel (and TFLite files)")
    export.add_argument("model", help="a .keras file written by `depnet train`")
    export.add_argument("--out", required=True, help="serving folder (gets NAME/VERSION/)")
    export.add_argument("--name", default="depnet")
    export.add_argument("--version", type=int, default=1)
    export.add_argument("--tflite", action="append", default=[], choices=("float32", "float16", "dynamic"),
                        help="also write a TFLite file (repeatable)")
    export.add_argument("--onnx", action="store_true",
                        help="also write an ONNX file (needs tf2onnx and onnxruntime)")
    export.add_argument("--force", action="store_true", help="replace an existing version")
    export.set_defaults(run=run_export)

    predict = subparsers.add_parser("predict", help="estimate the BDI-II score of a video or frame folder")
    predict.add_argument("input", help="a video file or a folder of face frames (OpenFace layout)")
    predict.add_argument("--model", required=True,
                         help=".keras file, SavedModel folder, .tflite or .onnx file")
    predict.add_argument("--clips", type=int, default=10, help="evenly spread clips (default 10)")
    predict.add_argument("--json", action="store_true", help="machine-readable output")
    predict.set_defaults(run=run_predict)


def run_export(args):
    import keras

    from depnet_tf.export import export_onnx, export_savedmodel, export_tflite, signature_metadata

    if not os.path.isfile(args.model):
        raise ValueError(f"{args.model}: no such model file")
    model = keras.saving.load_model(args.model)
    target = export_savedmodel(model, args.out, args.name, args.version, force=args.force)
    print(f"SavedModel: {target} (signature serving_default: frames uint8 -> bdi_ii, severity)")
    print(f"TF-Serving config: {os.path.join(args.out, 'models.config')}")
    for quantization in args.tflite:
        path = os.path.join(args.out, f"{args.name}-v{args.version}-{quantization}.tflite")
        export_tflite(model, target, path, quantization, signature_metadata(model))
        print(f"TFLite ({quantization}): {path} ({os.path.getsize(path) / 1e6:.1f} MB) + .json")
    if args.onnx:
        path = os.path.join(args.out, f"{args.name}-v{args.version}.onnx")
        export_onnx(model, path, signature_metadata(model))
        print(f"ONNX: {path} ({os.path.getsize(path) / 1e6:.1f} MB) + .json")
    return 0


def run_predict(args):
    from depnet_tf.export import load_predictor, predict_path

    result = predict_path(args.input, load_predictor(args.model), clips=args.clips)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['input']}: BDI-II {result['bdi_ii']:.1f} ({result['severity_name']}), "
          f"over {result['clips']} clips: std {result['std']:.2f}, "
          f"range {result['min']:.1f}-{result['max']:.1f}")
    return 0
