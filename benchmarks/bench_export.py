"""Export sizes and latencies of a default-size DepNet (T=5, 224 px), and backbone efficiency.

Prints, from one run: file size and per-clip latency of the SavedModel, TFLite
float32 and TFLite dynamic-range; a batch of 8 clips in one TFLite invoke
against 8 single invokes; the latency of the first and the tenth request in a
fresh process that loads the SavedModel, cold and after replaying the version's
TF-Serving warm-up requests (as TF-Serving does when it loads a version;
`tf.saved_model.load` itself never reads them); and the SENet50 backbone's
achieved GFLOP/s as a fraction of a large `tf.matmul`'s in the same process.

    .venv/bin/python benchmarks/bench_export.py [--repeats 5]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import best_of  # noqa: E402

from depnet_tf import DepNetConfig, build_depnet  # noqa: E402
from depnet_tf.export import LiteRTRunner, export_savedmodel, export_tflite, signature_metadata  # noqa: E402


def folder_size(path):
    return sum(
        os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files
    )


def conv_dense_flops(model):
    """Multiply-adds x 2 of every Conv2D and Dense layer of a functional model."""
    flops = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, channels_out = layer.output.shape
            kernel_h, kernel_w, channels_in, _ = layer.kernel.shape
            flops += 2 * height * width * kernel_h * kernel_w * channels_in * channels_out
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * int(np.prod(layer.kernel.shape))
    return flops


def matmul_gflops(repeats, size=4096):
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    run = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    return 2 * size**3 / best_of(repeats, lambda: run().numpy(), warmup=True) / 1e9


def request_latencies(version_dir, replay):
    """In this (fresh) process: load the SavedModel, maybe replay its warm-up, time 10 requests."""
    from depnet_tf.export.warmup import read_warmup_requests

    start = time.perf_counter()
    loaded = tf.saved_model.load(version_dir)
    load_seconds = time.perf_counter() - start
    replay_seconds = 0.0
    if replay:
        start = time.perf_counter()
        warmup = os.path.join(version_dir, "assets.extra", "tf_serving_warmup_requests")
        for signature, inputs in read_warmup_requests(warmup):
            loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
        replay_seconds = time.perf_counter() - start
    serve = loaded.signatures["serving_default"]
    clip = tf.constant(np.random.default_rng(1).integers(0, 256, (1, 5, 224, 224, 3), np.uint8))
    latencies = []
    for _ in range(10):
        start = time.perf_counter()
        serve(frames=clip)["bdi_ii"].numpy()
        latencies.append(time.perf_counter() - start)
    print(json.dumps({"load": load_seconds, "replay": replay_seconds, "latencies": latencies}))


def fresh_process_latencies(version_dir, replay):
    command = [sys.executable, __file__, "--latencies", version_dir, str(int(replay))]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    model = build_depnet(DepNetConfig())
    clip = np.random.default_rng(0).integers(0, 256, (1, 5, 224, 224, 3), dtype=np.uint8)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        target = export_savedmodel(model, folder, "depnet", 1)
        serve = tf.saved_model.load(target).signatures["serving_default"]
        seconds = best_of(
            args.repeats, lambda: serve(frames=tf.constant(clip))["bdi_ii"].numpy(), warmup=True
        )
        rows.append(("SavedModel", folder_size(target), seconds))
        for quantization in ("float32", "dynamic"):
            path = export_tflite(
                model,
                target,
                os.path.join(folder, f"m-{quantization}.tflite"),
                quantization,
                signature_metadata(model),
            )
            runner = LiteRTRunner(path)
            seconds = best_of(args.repeats, lambda runner=runner: runner(clip), warmup=True)
            rows.append((f"TFLite {quantization}", os.path.getsize(path), seconds))
            if quantization == "float32":
                batch = np.repeat(clip, 8, axis=0)
                batched = best_of(args.repeats, lambda r=runner, b=batch: r(b), warmup=True)
                singles = best_of(
                    args.repeats, lambda r=runner, b=batch: [r(b[i : i + 1]) for i in range(8)]
                )
        cold = fresh_process_latencies(target, replay=False)
        warm = fresh_process_latencies(target, replay=True)
    print(f"{'format':<18} {'size MB':>9} {'ms/clip':>9}")
    for name, size, seconds in rows:
        print(f"{name:<18} {size / 1e6:>9.1f} {seconds * 1e3:>9.0f}")
    print(
        f"\nTFLite float32, 8 clips: one invoke {batched * 1e3:.0f} ms, 8 single invokes "
        f"{singles * 1e3:.0f} ms ({singles / batched:.2f}x)"
    )
    print(f"\nfresh process, SavedModel serving_default (load {cold['load']:.1f} s):")
    print(f"{'':<28} {'1st ms':>8} {'10th ms':>8} {'replay s':>9}")
    for name, result in (("cold", cold), ("after warm-up replay", warm)):
        first, tenth = result["latencies"][0], result["latencies"][9]
        print(f"{name:<28} {first * 1e3:>8.0f} {tenth * 1e3:>8.0f} {result['replay']:>9.1f}")

    backbone = model.backbone
    frames = tf.random.normal((5, 224, 224, 3))
    run = tf.function(lambda x: backbone(x, training=False))
    seconds = best_of(args.repeats, lambda: run(frames).numpy(), warmup=True)
    achieved = conv_dense_flops(backbone) * 5 / seconds / 1e9
    peak = matmul_gflops(args.repeats)
    print(
        f"\nbackbone: {conv_dense_flops(backbone) / 1e9:.2f} GFLOP/frame, "
        f"{5 / seconds:.1f} frames/s, "
        f"{achieved:.1f} GFLOP/s"
    )
    print(f"tf.matmul 4096^3: {peak:.1f} GFLOP/s")
    print(f"backbone / matmul: {achieved / peak:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--latencies":
        request_latencies(sys.argv[2], bool(int(sys.argv[3])))
    else:
        main()
