"""Export sizes and latencies of a default-size DepNet (T=5, 224 px), and backbone efficiency.

Prints, from one run: file size and per-clip latency of the SavedModel, TFLite
float32 and TFLite dynamic-range; and the SENet50 backbone's achieved GFLOP/s as
a fraction of a large `tf.matmul`'s GFLOP/s measured in the same process.

    .venv/bin/python benchmarks/bench_export.py [--repeats 5]
"""

import argparse
import os
import sys
import tempfile

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
    print(f"{'format':<18} {'size MB':>9} {'ms/clip':>9}")
    for name, size, seconds in rows:
        print(f"{name:<18} {size / 1e6:>9.1f} {seconds * 1e3:>9.0f}")

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
    main()
