"""How much `depnet demo`'s result moves with the seed, and with the machine.

Runs the demo (each run a fresh process, in its own folder) for seeds 0-4, then
seed 0 again as another machine would: oneDNN limited to AVX2 kernels
(`ONEDNN_MAX_CPU_ISA=AVX2`, as on a CPU without AVX-512/AMX) and TensorFlow on one
thread (`TF_NUM_INTRAOP_THREADS=1`). Prints the held-out RMSE, MAE, the
held-out prediction of the predict step and the seconds of each, and a repeat of
seed 0 to show it is bit for bit on the same machine.

    .venv/bin/python benchmarks/demo_spread.py [--seeds 0 1 2 3 4] [--out /tmp/spread]
"""

import argparse
import json
import os
import subprocess
import sys

DEPNET = os.path.join(os.path.dirname(sys.executable), "depnet")


def demo(out, seed, env=None):
    result = subprocess.run(
        [DEPNET, "-q", "demo", "--out", out, "--seed", str(seed)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise SystemExit(f"demo seed {seed} failed: {result.stderr[-2000:]}")
    with open(os.path.join(out, "report.json")) as file:
        return json.load(file)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", default="/tmp/demo-spread")
    args = parser.parse_args()
    runs = [(f"seed {s}", s, None) for s in args.seeds]
    runs += [
        ("seed 0 again", 0, None),
        ("seed 0, AVX2 kernels only", 0, {"ONEDNN_MAX_CPU_ISA": "AVX2"}),
        ("seed 0, one thread", 0, {"TF_NUM_INTRAOP_THREADS": "1", "OMP_NUM_THREADS": "1"}),
    ]
    rows = []
    for index, (name, seed, env) in enumerate(runs):
        report = demo(os.path.join(args.out, str(index)), seed, env)
        rows.append((name, report))
        predicted = report.get("prediction", {})
        print(
            f"{name:28} RMSE {report['rmse']:6.3f}  MAE {report['mae']:6.3f}  "
            f"baseline RMSE {report['baseline_rmse']:6.2f}  "
            f"predict {predicted.get('savedmodel_bdi_ii', float('nan')):6.2f}  "
            f"{report.get('seconds', float('nan')):5.0f} s",
            flush=True,
        )
    seeds = [r["rmse"] for n, r in rows if n.startswith("seed ") and n[5:].isdigit()]
    if seeds:
        mean = sum(seeds) / len(seeds)
        print(
            f"RMSE over {len(seeds)} seeds: mean {mean:.2f}, min {min(seeds):.2f}, "
            f"max {max(seeds):.2f}"
        )


if __name__ == "__main__":
    main()
