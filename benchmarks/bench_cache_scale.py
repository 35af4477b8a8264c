"""Peak memory of training on the feature cache, against the cache's size.

Writes synthetic caches in the real layout (7 x 7 x 256 float16 per frame,
25 KB; `--frames` frames per video) of each `--sizes` (GB). On each, in a fresh
process per run, it reads 2 epochs of training clips with no model (the input
pipeline's own memory), then trains the paper's head (default DepNet) for 2
epochs, and reports the process's peak RSS. The streamed cache (the default)
should need the same memory whatever the cache's size; the in-memory reader is
run on the smallest cache for contrast. Prints a table.

    .venv/bin/python benchmarks/bench_cache_scale.py [--sizes 2 6] [--dir /tmp]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FEATURE_SHAPE = (7 * 7 * 256,)  # the head takes flattened pooled LLF


def write_cache(folder, gigabytes, frames):
    """A cache of about `gigabytes` GB and its manifest; returns the manifest path."""
    import numpy as np
    import pandas as pd

    from depnet_tf.data.cache_entries import entry_path, write_entry, write_meta

    dim = int(np.prod(FEATURE_SHAPE))
    videos = max(2, round(gigabytes * 1e9 / (frames * dim * 2)))
    os.makedirs(folder, exist_ok=True)
    write_meta(folder, {"feature_shape": list(FEATURE_SHAPE)})
    pool = np.random.default_rng(0).normal(size=(frames, dim)).astype(np.float16)
    records = []
    for index in range(videos):
        name = f"v{index:05d}"
        write_entry(entry_path(folder, name), np.roll(pool, index, axis=0), np.arange(frames))
        records.append(
            {
                "video_id": name,
                "frames": "unused",
                "label": float(index % 64),
                "split": "train",
                "subject": name,
            }
        )
    manifest = os.path.join(folder, "manifest.csv")
    pd.DataFrame(records).to_csv(manifest, index=False)
    return manifest


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(cache, manifest, in_memory, clips, batch_size, train):
    """In this process: 2 epochs over the cache, training the head or only reading; a JSON line."""
    import tensorflow as tf

    from depnet_tf.data import Manifest, feature_dataset

    result = {"rss_before": peak_rss()}
    if train:
        from depnet_tf import DepNetConfig, build_depnet
        from depnet_tf.training import CaffeInverseDecay, CaffeSGD, EuclideanLoss

        model = build_depnet(DepNetConfig())
        head = model.head_model()
        head.compile(optimizer=CaffeSGD(CaffeInverseDecay()), loss=EuclideanLoss())
        result["rss_before"] = peak_rss()
    dataset = feature_dataset(
        cache,
        Manifest.read(manifest, check_frames=False),
        "train",
        num_frames=5,
        clips_per_video=clips,
        training=True,
        batch_size=batch_size,
        in_memory=in_memory,
    )
    start = time.perf_counter()
    if train:
        head.fit(dataset, epochs=2, verbose=0)
        variables = head.weights + head.optimizer.variables
        result["weights_and_optimizer"] = sum(int(v.numpy().nbytes) for v in variables)
    else:
        for _ in range(2):
            for features, _ in dataset:
                tf.reduce_sum(features).numpy()
    result["seconds"] = time.perf_counter() - start
    result["peak_rss"] = peak_rss()
    print(json.dumps(result))


def run(cache, manifest, in_memory, clips, batch_size, train):
    command = [sys.executable, __file__, "--measure", cache, manifest]
    command += [str(int(in_memory)), str(clips), str(batch_size), str(int(train))]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def folder_bytes(folder):
    return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[2.0, 6.0], help="GB")
    parser.add_argument("--frames", type=int, default=600, help="frames per video")
    parser.add_argument(
        "--clips-per-epoch",
        type=int,
        default=400,
        help="training clips per epoch, the same at every cache size (so are the steps)",
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--dir", default=None, help="where to write the caches")
    args = parser.parse_args()
    rows = []
    root = tempfile.mkdtemp(prefix="depnet-cache-scale-", dir=args.dir)
    try:
        for number, size in enumerate(sorted(args.sizes)):
            cache = os.path.join(root, f"cache{number}")
            manifest = write_cache(cache, size, args.frames)
            on_disk = folder_bytes(cache)
            videos = len(os.listdir(cache)) - 2  # less meta.json and manifest.csv
            readers = [False, True] if number == 0 else [False]
            for in_memory in readers:
                clips = max(1, round(args.clips_per_epoch / videos))
                for train in (False, True):
                    result = run(cache, manifest, in_memory, clips, args.batch_size, train)
                    reader = "in memory" if in_memory else "streamed"
                    rows.append((on_disk, videos, reader, train, result))
            shutil.rmtree(cache)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    gb = 1e9
    print(
        f"{'cache':>9}  {'videos':>6}  {'reader':<9}  {'job':<10}  {'peak RSS':>9}  "
        f"{'before':>8}  {'growth':>8}  {'2 epochs':>8}"
    )
    for on_disk, videos, reader, train, result in rows:
        growth = result["peak_rss"] - result["rss_before"]
        print(
            f"{on_disk / gb:7.2f}GB  {videos:>6}  {reader:<9}  "
            f"{'train head' if train else 'read only':<10}  {result['peak_rss'] / gb:7.2f}GB  "
            f"{result['rss_before'] / gb:6.2f}GB  {growth / gb:6.2f}GB  {result['seconds']:7.1f}s"
        )
    trained = [r for *_, train, r in rows if train]
    print(
        f"{args.clips_per_epoch} clips per epoch at every size. before: RSS before the "
        "epochs (TensorFlow, and for training the full DepNet built); growth: peak minus "
        f"that. Head weights + optimizer slots: {trained[0]['weights_and_optimizer'] / gb:.2f}GB"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        cache, manifest, in_memory, clips, batch_size, train = sys.argv[2:8]
        measure(
            cache, manifest, bool(int(in_memory)), int(clips), int(batch_size), bool(int(train))
        )
    else:
        main()
