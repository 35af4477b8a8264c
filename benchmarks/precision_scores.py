"""How far each precision moves the trained demo model's scores from float32.

Trains the demo (`depnet demo`, its defaults: 40 videos, 64 px) unless
`--demo-out` names a finished one, then scores the held-out videos on their
face frames (the whole model: backbone, FAM and head) with the same weights
built under each policy (`DepressionRegressor.with_precision`). It prints, per
policy, the mean and largest absolute difference of the per-video scores from
float32's, and each policy's RMSE.

    .venv/bin/python benchmarks/precision_scores.py [--demo-out demo_out] [--json scores.json]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-out", default=None, help="a finished `depnet demo` folder")
    parser.add_argument("--json", default="precision_scores.json")
    args = parser.parse_args()
    out = args.demo_out or os.path.join(tempfile.mkdtemp(prefix="depnet-demo-"), "demo")
    if not os.path.exists(os.path.join(out, "report.json")):
        depnet = os.path.join(os.path.dirname(sys.executable), "depnet")
        subprocess.run([depnet, "-q", "demo", "--out", out], check=True)

    import numpy as np

    from depnet_tf.constants import PRECISIONS
    from depnet_tf.data import Manifest
    from depnet_tf.evaluation.per_video import evaluate_model
    from depnet_tf.models.loading import load_regressor

    model = load_regressor(os.path.join(out, "run", "model.keras"))
    manifest = Manifest.read(os.path.join(out, "manifest.csv"))
    scores = {}
    for precision in PRECISIONS:
        table, summary = evaluate_model(model.with_precision(precision), manifest, "test")
        scores[precision] = {
            "videos": table["video_id"].tolist(),
            "prediction": table["prediction"].to_numpy(np.float64),
            "rmse": summary["rmse"],
        }
    reference = scores["float32"]["prediction"]
    rows = []
    print(f"demo model ({out}), {len(reference)} held-out videos, scores on face frames")
    print(f"{'policy':15} {'mean |diff|':>12} {'max |diff|':>11} {'RMSE':>7}")
    for precision in PRECISIONS:
        difference = np.abs(scores[precision]["prediction"] - reference)
        row = {
            "policy": precision,
            "mean_abs_difference": float(difference.mean()),
            "max_abs_difference": float(difference.max()),
            "rmse": float(scores[precision]["rmse"]),
        }
        rows.append(row)
        print(
            f"{precision:15} {row['mean_abs_difference']:12.4f} "
            f"{row['max_abs_difference']:11.4f} {row['rmse']:7.3f}"
        )
    with open(args.json, "w") as file:
        json.dump({"demo": out, "rows": rows}, file, indent=2)


if __name__ == "__main__":
    main()
