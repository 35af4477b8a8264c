"""`depnet demo`: the whole pipeline on generated face videos."""

from depnet_tf.cli.common import CommandError, add_command, progress_enabled
from depnet_tf.constants import PRECISIONS
from depnet_tf.demo.settings import DemoSettings

_DEFAULTS = DemoSettings()


def add_parser(subparsers):
    demo = add_command(
        subparsers,
        "demo",
        "run the whole pipeline on generated face videos (a few minutes on a CPU)",
    )
    demo.add_argument("--out", default="demo_out", help="output folder")
    demo.add_argument(
        "--seed", type=int, default=_DEFAULTS.seed, help="seed of the videos, split and training"
    )
    demo.add_argument("--videos", type=int, default=_DEFAULTS.num_videos, help="number of videos")
    demo.add_argument(
        "--frames", type=int, default=_DEFAULTS.frames_per_video, help="frames per video"
    )
    demo.add_argument("--epochs", type=int, default=_DEFAULTS.max_epochs, help="training epochs")
    demo.add_argument("--image-size", type=int, default=_DEFAULTS.image_size, help="face crop side")
    demo.add_argument(
        "--backbone-weights",
        default=None,
        help="SENet50 weights: a file, 'vggface2' (cache or download) or 'random'; "
        "default: VGGFace2 if keras-vggface's cache has it, else random",
    )
    demo.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=_DEFAULTS.precision,
        help="the model's Keras dtype policy (16-bit compute, float32 weights and score)",
    )
    demo.set_defaults(run=run)


def run(args):
    from depnet_tf.demo import format_report, run_demo

    if args.videos < 4:
        raise CommandError(f"--videos must be at least 4. Received: {args.videos}")
    if args.frames < _DEFAULTS.num_frames:
        raise CommandError(
            f"--frames must be at least T={_DEFAULTS.num_frames}. Received: {args.frames}"
        )
    if args.epochs < 1:
        raise CommandError(f"--epochs must be at least 1. Received: {args.epochs}")
    settings = {
        "num_videos": args.videos,
        "frames_per_video": args.frames,
        "max_epochs": args.epochs,
        "image_size": args.image_size,
        "precision": args.precision,
    }
    if args.backbone_weights is not None:
        choice = args.backbone_weights
        settings["backbone_weights"] = None if choice == "random" else choice
    report = run_demo(
        args.out, DemoSettings(seed=args.seed, **settings), progress=progress_enabled(args)
    )
    print()
    print(format_report(report))
    return 0
