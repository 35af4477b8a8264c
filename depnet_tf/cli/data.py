"""`depnet faces`, `depnet manifest` and `depnet cache`: from videos to cached features."""

import argparse
import sys

from depnet_tf.cli.common import (
    add_arch_option,
    add_command,
    add_face_options,
    face_options,
    positive_int,
    progress_enabled,
    report_skipped,
)
from depnet_tf.cli.overrides import parse_overrides
from depnet_tf.constants import AVEC_DATASETS, IMAGE_SIZE


def add_parser(subparsers):
    faces = add_command(subparsers, "faces", "detect, align and crop the faces of videos")
    faces.add_argument("inputs", nargs="+", help="video files or folders (searched recursively)")
    faces.add_argument("--out", required=True, help="output folder (OpenFace layout)")
    faces.add_argument("--size", type=positive_int, default=IMAGE_SIZE, help="crop size in pixels")
    add_face_options(faces)
    faces.add_argument("--overwrite", action="store_true", help="redo finished videos")
    add_shard_option(faces)
    faces.set_defaults(run=run_faces)

    manifest = add_command(subparsers, "manifest", "write a manifest CSV for an AVEC data set")
    manifest.add_argument("dataset", choices=AVEC_DATASETS)
    manifest.add_argument("video_root", help="folder holding Training/Development/Testing")
    manifest.add_argument(
        "--labels", required=True, help="folder holding the *_Depression.csv files"
    )
    manifest.add_argument("--faces", default="faces", help="where `depnet faces` wrote its output")
    manifest.add_argument("-o", "--output", required=True, help="manifest CSV to write")
    manifest.set_defaults(run=run_manifest)

    cache = add_command(
        subparsers, "cache", "encode every face frame once with the frozen backbone"
    )
    cache.add_argument("manifest", help="manifest CSV")
    cache.add_argument("--out", required=True, help="cache folder")
    add_arch_option(
        cache, default=None, help_text="model architecture (default: the config's, else depnet)"
    )
    cache.add_argument(
        "--config", help="a training config (file or shipped name); its `model` section is used"
    )
    cache.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a DepNetConfig field, e.g. --set backbone_weights=vggface2",
    )
    cache.add_argument("--batch-size", type=positive_int, default=32, help="frames per batch")
    add_shard_option(cache)
    cache.add_argument(
        "--verify",
        action="store_true",
        help="only check that every manifest video has a complete entry",
    )
    cache.set_defaults(run=run_cache)


def shard_argument(text):
    """argparse type: I/N (see `depnet_tf.sharding`)."""
    from depnet_tf.sharding import parse_shard

    try:
        return parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_shard_option(parser):
    parser.add_argument(
        "--shard",
        type=shard_argument,
        metavar="I/N",
        help="take only shard I of N of the videos (0-based), e.g. "
        "${JOB_COMPLETION_INDEX}/8 in a job array",
    )


def run_faces(args):
    from depnet_tf.faces.extract import extract_all

    detector, options = face_options(args)
    results, failures = extract_all(
        args.inputs,
        args.out,
        detector,
        progress=progress_enabled(args),
        shard=args.shard,
        image_size=args.size,
        overwrite=args.overwrite,
        **options,
    )
    done = [r for r in results if not r.skipped_existing]
    sampled = sum(r.sampled for r in done)
    faces = sum(r.faces for r in done)
    redone = sum(bool(r.redone) for r in done)
    print(
        f"{len(done)} videos processed ({faces}/{sampled} sampled frames with a face"
        f"{f', {redone} redone with new settings' if redone else ''}), "
        f"{len(results) - len(done)} already done, {len(failures)} skipped; output in {args.out}"
    )
    return report_skipped(failures, "videos")


def run_manifest(args):
    from depnet_tf.data.avec import DATASETS as BUILDERS

    manifest = BUILDERS[args.dataset](args.video_root, args.labels, args.faces)
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
    if args.verify:
        from depnet_tf.data import verify_cache

        problems = verify_cache(args.out, manifest, model.feature_spec())
        print(
            f"{len(manifest) - len(problems)} of {len(manifest)} videos have a complete "
            f"entry in {args.out}"
        )
        for video_id, problem in problems:
            print(f"incomplete {video_id}: {problem}", file=sys.stderr)
        return 1 if problems else 0
    done, failures = build_cache(
        model,
        manifest,
        args.out,
        batch_size=args.batch_size,
        progress=progress_enabled(args),
        shard=args.shard,
    )
    print(f"{len(done)} videos cached in {args.out}")
    return report_skipped(failures, "videos")
