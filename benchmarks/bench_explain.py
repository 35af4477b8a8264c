"""Explaining one clip (score, Grad-CAM and frame importance) against predicting it, at 224 px.

`depnet explain` runs `depnet_tf.explain.attribution.explain_clips`: one
forward pass through the backbone and one backward pass through the head give
the score, the Grad-CAM maps and the frame importances. `depnet predict` runs
the compiled serving function. Both on one clip of the default DepNet (T=5).

    .venv/bin/python benchmarks/bench_explain.py [--repeats 5]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from timing import best_of  # noqa: E402  (benchmarks/timing.py)

from depnet_tf import DepNetConfig, build_depnet  # noqa: E402
from depnet_tf.explain.attribution import explain_clips  # noqa: E402
from depnet_tf.export.predictor import KerasRunner  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    model = build_depnet(DepNetConfig())
    clip = np.random.default_rng(0).integers(0, 256, (1, 5, 224, 224, 3), dtype=np.uint8)
    runner = KerasRunner(model)
    predict = best_of(args.repeats, lambda: runner(clip), warmup=True)
    explain = best_of(
        args.repeats, lambda: explain_clips(model, clip.astype(np.float32)), warmup=True
    )
    print("default DepNet (T=5, 224 px), one clip, best of", args.repeats)
    print(f"{'step':<32} {'seconds':>8}")
    print(f"{'predict (serving function)':<32} {predict:>8.3f}")
    print(f"{'explain (score, Grad-CAM, frames)':<32} {explain:>8.3f}")
    print(f"ratio explain / predict: {explain / predict:.2f} (target: at most 3)")


if __name__ == "__main__":
    main()
