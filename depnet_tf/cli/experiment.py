"""`depnet experiment`: a grid of training runs, scored and tabled as the paper's Tables 2-3."""

import sys

from depnet_tf.cli.common import add_command, progress_enabled


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "experiment",
        "run a grid of training runs (architectures x seeds x ...) and table them",
    )
    parser.add_argument("grid", help="grid YAML: base (a train config), set, grid (axes)")
    parser.add_argument("--out", required=True, help="experiment folder (one sub-folder per cell)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--list", action="store_true", help="print the cells and their state")
    group.add_argument(
        "--only",
        type=int,
        metavar="I",
        help="run cell I only (for a job array; 0-based, see --list)",
    )
    group.add_argument(
        "--collect",
        action="store_true",
        help="only gather the finished cells into results.csv and tables.md",
    )
    parser.set_defaults(run=run)


def run(args):
    import os

    from depnet_tf.training.experiment import RESULT, collect, read_grid, run_experiment

    grid = read_grid(args.grid)
    if args.list:
        for cell in grid.cells():
            done = os.path.isfile(os.path.join(args.out, cell.name, RESULT))
            print(f"{cell.index}\t{'done' if done else 'todo'}\t{cell.name}")
        return 0
    if args.collect:
        table = collect(grid, args.out)
    else:
        table = run_experiment(grid, args.out, only=args.only, progress=progress_enabled(args))
    print(
        f"{len(table)} of {len(grid.cells())} cells finished: "
        f"{os.path.join(args.out, 'results.csv')}, {os.path.join(args.out, 'tables.md')}"
    )
    print(open(os.path.join(args.out, "tables.md")).read(), file=sys.stderr)
    return 0
