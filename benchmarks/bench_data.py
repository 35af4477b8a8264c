"""Data-pipeline speed: face extraction, cache build, and cached vs end-to-end training epochs.

The cache is read two ways: streamed (the default: the rows each clip needs are
read from the entries as it is drawn) and in memory (every entry loaded first).

Default-size DepNet (T=5, 224 px, random backbone weights: speed does not depend
on them). Videos are 640x480 files of a real face written with OpenCV. Prints a
table; ratios are measured in this one run.

    .venv/bin/python benchmarks/bench_data.py [--videos 4] [--frames 60] [--clips 8]
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pandas as pd  # noqa: E402

from depnet_tf import DepNetConfig, build_depnet  # noqa: E402
from depnet_tf.data import Manifest, build_cache, clip_dataset, feature_dataset  # noqa: E402
from depnet_tf.faces.detector import FaceDetector  # noqa: E402
from depnet_tf.faces.extract import extract_faces  # noqa: E402
from depnet_tf.training import CaffeInverseDecay, CaffeSGD, EuclideanLoss  # noqa: E402
from tests.faces.videos import write_face_video  # noqa: E402


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


def epoch_seconds(model, dataset):
    """Seconds of the second epoch of a fit: tracing and warm-up stay in the first."""
    timer = EpochTimer()
    model.fit(dataset, epochs=2, verbose=0, callbacks=[timer])
    return timer.seconds


def compile_for_training(model):
    model.compile(optimizer=CaffeSGD(CaffeInverseDecay()), loss=EuclideanLoss())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--frames", type=int, default=60, help="frames per video")
    parser.add_argument("--clips", type=int, default=8, help="training clips per video per epoch")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        detector = FaceDetector()
        detector.detect(
            [keras.ops.convert_to_numpy(keras.ops.zeros((480, 640, 3), "uint8"))]
        )  # warm up
        records, faces_out = [], os.path.join(folder, "faces")
        extraction_time = frames_done = 0
        for i in range(args.videos):
            video = write_face_video(
                os.path.join(folder, f"v{i}.avi"), num_frames=args.frames, seed=i
            )
            seconds, result = timed(
                lambda video=video: extract_faces(video, faces_out, detector, max_frames=None)
            )
            extraction_time += seconds
            frames_done += result.sampled
            records.append(
                {
                    "video_id": f"v{i}",
                    "frames": os.path.join(faces_out, f"v{i}_aligned"),
                    "label": 5 + 10 * i,
                    "split": "train",
                    "subject": f"s{i}",
                }
            )
        rows.append(
            (
                "face extraction (640x480, MTCNN + align)",
                f"{frames_done / extraction_time:.1f} frames/s",
            )
        )

        pd.DataFrame(records).to_csv(os.path.join(folder, "manifest.csv"), index=False)
        manifest = Manifest.read(os.path.join(folder, "manifest.csv"))
        model = build_depnet(DepNetConfig())
        cache = os.path.join(folder, "cache")
        seconds, _ = timed(lambda: build_cache(model, manifest, cache, progress=False))
        rows.append(
            ("cache build (SENet50 + C. Max Pool, 224 px)", f"{frames_done / seconds:.1f} frames/s")
        )

        common = dict(
            num_frames=5, clips_per_video=args.clips, training=True, batch_size=args.batch_size
        )
        frames_data = clip_dataset(manifest, "train", image_size=224, **common)
        streamed = feature_dataset(cache, manifest, "train", **common)
        in_memory = feature_dataset(cache, manifest, "train", in_memory=True, **common)
        head = model.head_model()
        compile_for_training(head)
        compile_for_training(model)
        memory_seconds = epoch_seconds(head, in_memory)
        cached_seconds = epoch_seconds(head, streamed)
        frames_seconds = epoch_seconds(model, frames_data)
        clips = args.videos * args.clips
        rows.append((f"training epoch, cache in memory ({clips} clips)", f"{memory_seconds:.2f} s"))
        rows.append((f"training epoch, cache streamed ({clips} clips)", f"{cached_seconds:.2f} s"))
        rows.append(("streamed speed vs in memory", f"{memory_seconds / cached_seconds:.2f}x"))
        rows.append(("same epoch end-to-end on frames, frozen backbone", f"{frames_seconds:.2f} s"))
        rows.append(("speed-up of the cache", f"{frames_seconds / cached_seconds:.1f}x"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>16}")


if __name__ == "__main__":
    main()
