"""Epoch boundaries of our clip pipeline: tf.data autotuning on vs off.

Runs the default-size DepNet (T=5, 224 px) over `clip_dataset` for a few
epochs, as `model.fit` does: one new iterator per epoch, deleted when the epoch
ends. Prints, per setting, the seconds of each iterator deletion and the mean
step. Our pipelines ship with autotuning off (`depnet_tf.data.pipeline`).

    .venv/bin/python benchmarks/bench_iterator_teardown.py [--epochs 5]
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from depnet_tf import DepNetConfig, build_depnet  # noqa: E402
from depnet_tf.data import Manifest, clip_dataset  # noqa: E402


def write_manifest(folder, videos=4, frames=60):
    rng = np.random.default_rng(0)
    records = []
    for v in range(videos):
        faces = os.path.join(folder, f"v{v}_aligned")
        os.makedirs(faces)
        for i in range(1, frames + 1):
            image = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
            cv2.imwrite(os.path.join(faces, f"frame_det_00_{i:06d}.png"), image)
        records.append(
            {
                "video_id": f"v{v}",
                "frames": faces,
                "label": 10 * v,
                "split": "train",
                "subject": f"s{v}",
            }
        )
    path = os.path.join(folder, "manifest.csv")
    pd.DataFrame(records).to_csv(path, index=False)
    return Manifest.read(path)


def run_epochs(dataset, step, epochs):
    deletions, steps = [], []
    for _ in range(epochs):
        iterator = iter(dataset)
        for frames, _ in iterator:
            start = time.perf_counter()
            step(frames).numpy()
            steps.append(time.perf_counter() - start)
        start = time.perf_counter()
        del iterator
        deletions.append(time.perf_counter() - start)
    return deletions, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    model = build_depnet(DepNetConfig())
    step = tf.function(lambda frames: model(frames, training=False))
    with tempfile.TemporaryDirectory() as folder:
        manifest = write_manifest(folder)
        ours = clip_dataset(manifest, "train", clips_per_video=8, training=True, batch_size=16)
        options = tf.data.Options()
        options.autotune.enabled = True
        autotuned = ours.with_options(options)
        step(next(iter(ours))[0])  # trace outside the measurement
        rows = [
            (name, *run_epochs(dataset, step, args.epochs))
            for name, dataset in (("autotuning on", autotuned), ("autotuning off (ours)", ours))
        ]
    print(f"{'tf.data':<24}{'iterator deletion per epoch (s)':<44}{'mean step (s)':>14}")
    for name, deletions, steps in rows:
        print(f"{name:<24}{' '.join(f'{d:5.2f}' for d in deletions):<44}{np.mean(steps):>14.2f}")


if __name__ == "__main__":
    main()
