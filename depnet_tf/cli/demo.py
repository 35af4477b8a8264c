"""`depnet demo`: the whole pipeline on generated face videos."""


def add_parser(subparsers):
    # Literal defaults: importing DemoSettings here would load pandas and OpenCV on
    # every `depnet` start; tests/cli/test_demo.py keeps them equal to DemoSettings'.
    demo = subparsers.add_parser(
        "demo", help="run the whole pipeline on generated face videos (a few minutes on a CPU)")
    demo.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the videos, split and training")
    demo.add_argument("--videos", type=int, default=None, help="number of videos (default 32)")
    demo.add_argument("--frames", type=int, default=None, help="frames per video (default 36)")
    demo.add_argument("--epochs", type=int, default=None, help="training epochs (default 4)")
    demo.add_argument("--image-size", type=int, default=None, help="face crop side (default 64)")
    demo.add_argument("--backbone-weights", default=None,
                      help="SENet50 weights: a file, 'vggface2' (cache or download) or 'random'; "
                           "default: VGGFace2 if keras-vggface's cache has it, else random")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(run=run)


def run(args):
    from depnet_tf.demo import DemoSettings, format_report, run_demo

    chosen = {"num_videos": args.videos, "frames_per_video": args.frames,
              "max_epochs": args.epochs, "image_size": args.image_size}
    settings = {k: v for k, v in chosen.items() if v is not None}
    if args.backbone_weights is not None:
        settings["backbone_weights"] = None if args.backbone_weights == "random" else args.backbone_weights
    report = run_demo(args.out, DemoSettings(seed=args.seed, **settings), progress=not args.quiet)
    print()
    print(format_report(report))
    return 0
