"""Per-video evaluation throughput: an eager call per batch (before) vs one compiled graph (now).

`depnet evaluate` (`depnet_tf.evaluation.evaluate_split`) used to call the model
eagerly on every batch; it now runs the model's inference pass as one
`tf.function`, as `model.predict` does. Measured on the default DepNet (T=5,
224 px): on cached features (the head) and on face frames (the whole model).

    .venv/bin/python benchmarks/bench_evaluate.py [--videos 8] [--frames 20] [--clips 10]
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from depnet_tf import DepNetConfig, build_depnet  # noqa: E402
from depnet_tf.data import Manifest, build_cache, clip_dataset, feature_dataset  # noqa: E402
from depnet_tf.evaluation.per_video import compiled  # noqa: E402
from tests.training.workspace import write_frames  # noqa: E402


def eager(model):
    return lambda inputs: model(inputs, training=False)


def seconds(predict, dataset):
    """Seconds for one pass over `dataset` with `predict`, after a warm-up pass."""
    for inputs, *_ in dataset.take(1):
        predict(inputs)
    began = time.perf_counter()
    for inputs, *_ in dataset:
        np.asarray(predict(inputs))
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--clips", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        manifest_path = write_frames(folder, videos=args.videos, frames=args.frames, size=224)
        manifest = Manifest.read(manifest_path)
        keras.utils.set_random_seed(0)
        weights = os.path.join(folder, "backbone.weights.h5")
        build_depnet(DepNetConfig()).backbone.save_weights(weights)
        model = build_depnet(DepNetConfig(backbone_weights=weights))
        cache = os.path.join(folder, "cache")
        build_cache(model, manifest, cache, progress=False)
        options = {"clips_per_video": args.clips, "batch_size": 8, "with_ids": True}
        on_cache = feature_dataset(
            cache, manifest, "train", 5, spec=model.feature_spec(), **options
        )
        on_frames = clip_dataset(manifest, "train", 5, image_size=224, **options)
        videos = len(manifest.split("train"))
        head = model.head_model()
        rows = [
            ("cache (head)", seconds(eager(head), on_cache), seconds(compiled(head), on_cache)),
            (
                "frames (whole model)",
                seconds(eager(model), on_frames),
                seconds(compiled(model), on_frames),
            ),
        ]
    print(f"{videos} videos x {args.clips} clips, default DepNet (T=5, 224 px), batch 8")
    print(f"{'input':<22} {'eager videos/s':>15} {'compiled videos/s':>18} {'speed-up':>9}")
    for name, slow, fast in rows:
        print(f"{name:<22} {videos / slow:>15.2f} {videos / fast:>18.2f} {slow / fast:>8.2f}x")


if __name__ == "__main__":
    main()
