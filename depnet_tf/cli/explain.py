"""`depnet explain`: which face regions and which frames drive a video's score."""

from depnet_tf.cli.common import (
    CommandError,
    add_command,
    add_face_options,
    face_overrides,
    positive_int,
    print_json,
)
from depnet_tf.constants import EVAL_CLIPS


def add_parser(subparsers):
    parser = add_command(
        subparsers, "explain", "Grad-CAM heatmaps and frame importances of a video's score"
    )
    parser.add_argument("input", help="a video file or a folder of face frames (OpenFace layout)")
    parser.add_argument("--model", required=True, help="a .keras file (Grad-CAM needs its layers)")
    parser.add_argument("--out", required=True, help="folder for the grids, GIF and explain.json")
    parser.add_argument(
        "--clips",
        type=positive_int,
        default=EVAL_CLIPS,
        help="evenly spread clips, as `depnet predict` takes them",
    )
    parser.add_argument("--json", action="store_true", help="print explain.json's summary as JSON")
    add_face_options(parser, "a video input", from_model=True)
    parser.set_defaults(run=run)


def run(args):
    from depnet_tf.explain import explain_path
    from depnet_tf.models.loading import describe_file, load_regressor

    kind = describe_file(args.model)
    if kind in ("savedmodel", "tflite") or str(args.model).endswith((".tflite", ".onnx")):
        raise CommandError(
            f"{args.model}: Grad-CAM needs the Keras model (.keras); an exported "
            "model keeps no access to its layers' gradients"
        )
    options = face_overrides(args)
    model = load_regressor(args.model)
    result = explain_path(
        args.input,
        model,
        args.out,
        clips=args.clips,
        progress=not args.quiet,
        **options,
    )
    if args.json:
        print_json(
            {k: v for k, v in result.items() if k != "clips"}
            | {"frame_importance": [c["frame_importance"] for c in result["clips"]]}
        )
        return 0
    print(f"{result['input']}: BDI-II {result['bdi_ii']:.1f} over {len(result['clips'])} clips")
    for record in result["clips"]:
        weights = " ".join(f"{w:.2f}" for w in record["frame_importance"])
        print(
            f"  clip {record['clip']}: score {record['score']:.1f}, frames {record['frames']}, "
            f"importance {weights}"
        )
    print(f"grids, {result['gif']} and explain.json in {args.out}")
    return 0
