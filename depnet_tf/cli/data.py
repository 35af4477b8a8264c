"""`depnet faces`, `depnet manifest` and `depnet cache`: from videos to cached features."""

import sys

from depnet_tf.cli.overrides import parse_overrides


def add_parser(subparsers):
    faces = subparsers.add_parser("faces", help="detect, align and crop the faces of videos")
    faces.add_argument("inputs", nargs="+", help="video files or folders (searched recursively)")
    faces.add_argument("--out", required=True, help="output folder (OpenFace layout)")
    faces.add_argument("--every", type=int, default=1, help="sample every N-th frame (default 1)")
    faces.add_argument("--max-frames", type=int, default=600,
                       help="then keep at most N frames, evenly spread; 0 keeps all (default 600)")
    faces.add_argument("--crop", choices=("align", "box"), default="align",
                       help="5-point alignment to a loose template (default) or a box crop")
    faces.add_argument("--size", type=int, default=224, help="crop size in pixels (default 224)")
    faces.add_argument("--detect-size", type=int, default=320,
                       help="longer side frames are shrunk to for detection (default 320)")
    faces.add_argument("--overwrite", action="store_true", help="redo finished videos")
    faces.set_defaults(run=run_faces)

    manifest = subparsers.add_parser("manifest", help="write a manifest CSV for an AVEC data set")
    manifest.add_argument("dataset", choices=("avec2014", "avec2013"))
    manifest.add_argument("video_root", help="folder holding Training/Development/Testing")
    manifest.add_argument("--labels", required=True, help="folder holding the *_Depression.csv files")
    manifest.add_argument("--faces", default="faces", help="where `depnet faces` wrote its output")
    manifest.add_argument("-o", "--output", required=True, help="manifest CSV to write")
    manifest.set_defaults(run=run_manifest)

    cache = subparsers.add_parser("cache", help="encode every face frame once with the frozen backbone")
    cache.add_argument("manifest", help="manifest CSV")
    cache.add_argument("--out", required=True, help="cache folder")
    cache.add_argument("--arch", help="model architecture (default: the config's, else depnet)")
    cache.add_argument("--config", help="a training config (YAML); its `model` section is used")
    cache.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a DepNetConfig field, e.g. --set backbone_weights=vggface2")
    cache.add_argument("--batch-size", type=int, default=32)
    cache.set_defaults(run=run_cache)


def report_skipped(failures, what):
    for item, message in failures:
        print(f"skipped {item}: {message}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} {what} skipped", file=sys.stderr)
        return 1
    return 0


def run_faces(args):
    from depnet_tf.data.detector import FaceDetector
    from depnet_tf.data.faces import extract_all

    results, failures = extract_all(
        args.inputs, args.out, FaceDetector(detect_size=args.detect_size),
        every=args.every, max_frames=args.max_frames or None, crop=args.crop,
        image_size=args.size, overwrite=args.overwrite,
    )
    done = [r for r in results if not r.skipped_existing]
    sampled = sum(r.sampled for r in done)
    faces = sum(r.faces for r in done)
    print(f"{len(done)} videos processed ({faces}/{sampled} sampled frames with a face), "
          f"{len(results) - len(done)} already done, {len(failures)} skipped; output in {args.out}")
    return report_skipped(failures, "videos")


def run_manifest(args):
    from depnet_tf.data import Manifest

    build = Manifest.avec2014 if args.dataset == "avec2014" else Manifest.avec2013
    manifest = build(args.video_root, args.labels, args.faces)
    manifest.write(args.output)
    counts = manifest.table["split"].value_counts().to_dict()
    print(f"wrote {args.output}: {len(manifest)} videos {counts}")
    return 0


def model_settings(args):
    """(arch, DepNetConfig) from `--arch`, `--config` (its `arch` and `model`) and `--set`."""
    from depnet_tf.models import DepNetConfig

    arch, values = "depnet", {}
    if args.config:
        from depnet_tf.training.config import read_config

        config = read_config(args.config)
        arch, values = config["arch"], dict(config["model"])
    values.update(parse_overrides(args.set))
    return args.arch or arch, DepNetConfig.from_dict(values)


def run_cache(args):
    from depnet_tf.data import Manifest, build_cache
    from depnet_tf.models import build_model

    manifest = Manifest.read(args.manifest)
    model = build_model(*model_settings(args))
    done, failures = build_cache(model, manifest, args.out, batch_size=args.batch_size)
    print(f"{len(done)} videos cached in {args.out}")
    return report_skipped(failures, "videos")
