"""Speed of each precision, with and without XLA, on whatever device TensorFlow finds.

For every Keras dtype policy DepNet supports (float32, mixed_bfloat16,
mixed_float16) and XLA on and off, each in its own process (the policy and
XLA's caches are per process), it measures:

- backbone frames/s: the cache step, `model.feature_extractor()` on a batch of
  face crops (the work of `depnet cache`, `explain` and `predict`);
- head iterations/s: a training step of the FAM and FC head on cached features,
  compiled as `depnet train` compiles it (Caffe SGD, loss scaling under
  mixed_float16);
- end-to-end iterations/s: a fine-tuning step on frames with SENet50's conv5
  stage trainable (`--end-to-end --unfreeze-last-stage`);
- peak accelerator memory, where the device reports it (GPUs do; the CPU does not).

It prints a table headed by the device's name and writes JSON. On a GPU run it
as is; on a CPU `--reduced` (112 px, small batches) finishes in a few minutes.

    .venv/bin/python benchmarks/bench_precision.py [--reduced] [--json precision.json]
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras, numpy as np, tensorflow as tf
from depnet_tf import DepNetConfig, build_model
from depnet_tf.training.config import merge_config
from depnet_tf.training.trainer import compile_like_the_paper, unfreeze_last_stage

policy, xla = sys.argv[2], sys.argv[3] == "1"
size, frames_batch, clips_batch, repeats = (int(v) for v in sys.argv[4:8])
device = "GPU:0" if tf.config.list_physical_devices("GPU") else None
train = merge_config({"train": {"base_lr": 1e-6}})["train"]
rng = np.random.default_rng(0)


def peak_then_reset():
    if device is None:
        return None
    peak = tf.config.experimental.get_memory_info(device)["peak"]
    tf.config.experimental.reset_memory_stats(device)
    return peak


def rate(step, count):
    step()  # compile and warm up
    step()
    began = time.perf_counter()
    for _ in range(repeats):
        step()
    return count * repeats / (time.perf_counter() - began)


keras.utils.set_random_seed(0)
config = DepNetConfig(image_size=size, precision=policy)
model = build_model("depnet", config)
result = {}

encoder = model.feature_extractor()
encode = tf.function(lambda x: encoder(x, training=False), jit_compile=xla)
images = tf.constant(rng.uniform(0, 255, (frames_batch, size, size, 3)).astype("float32"))
result["backbone_frames_per_s"] = rate(lambda: encode(images).numpy(), frames_batch)
result["backbone_peak_bytes"] = peak_then_reset()

head = model.head_model()
compile_like_the_paper(head, train, jit_compile=xla, precision=policy)
features = rng.normal(size=(16, *head.input_shape[1:])).astype("float32")
labels = rng.uniform(0, 63, (16, 1)).astype("float32")
result["head_iterations_per_s"] = rate(lambda: head.train_on_batch(features, labels), 1)
result["head_peak_bytes"] = peak_then_reset()

full = build_model("depnet", config.replace(freeze_backbone=False))
unfreeze_last_stage(full)
compile_like_the_paper(full, train, jit_compile=xla, precision=policy)
clips = rng.uniform(0, 255, (clips_batch, *full.input_shape[1:])).astype("float32")
clip_labels = rng.uniform(0, 63, (clips_batch, 1)).astype("float32")
result["end_to_end_iterations_per_s"] = rate(lambda: full.train_on_batch(clips, clip_labels), 1)
result["end_to_end_peak_bytes"] = peak_then_reset()
print(json.dumps(result))
"""


def device_name():
    """The accelerator's name, or the CPU's model name and its core count."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    name = "CPU"
    try:
        with open("/proc/cpuinfo") as file:
            lines = [line for line in file if line.startswith(("model name", "flags"))]
        name = next(line.split(":", 1)[1].strip() for line in lines if "model name" in line)
        flags = next(line.split(":", 1)[1].split() for line in lines if line.startswith("flags"))
        units = [f for f in ("avx512_bf16", "amx_bf16", "avx512_fp16") if f in flags]
        name += f" ({', '.join(units) or 'no bf16/fp16 units'})"
    except (OSError, StopIteration):
        pass
    return f"CPU: {name}, {os.cpu_count()} cores"


def measure(policy, xla, sizes):
    result = subprocess.run(
        [sys.executable, "-c", CHILD, ROOT, policy, "1" if xla else "0", *map(str, sizes)],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last[:200]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help="112 px, small batches (CPU)")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per measurement")
    parser.add_argument("--policies", nargs="+", default=POLICIES, choices=POLICIES)
    parser.add_argument("--json", default="bench_precision.json", help="where to write results")
    args = parser.parse_args()
    # image size, frames per backbone batch, clips per fine-tuning batch, timed steps
    sizes = (112, 8, 1, 3) if args.reduced else (224, 32, 4, 10)
    if args.repeats:
        sizes = (*sizes[:3], args.repeats)
    device = device_name()
    rows = []
    for policy in args.policies:
        for xla in (False, True):
            rows.append({"policy": policy, "xla": xla, **measure(policy, xla, sizes)})
    base = next((r for r in rows if r["policy"] == "float32" and not r["xla"]), {})
    print(f"{device}; {sizes[0]} px, backbone batch {sizes[1]} frames, fine-tuning batch")
    print(f"{sizes[2]} clip(s) of 5 frames, head batch 16; best of one run, {sizes[3]} steps")
    header = f"{'policy':15} {'XLA':4} {'backbone fps':>13} {'x f32':>6} {'head it/s':>10}"
    print(header + f" {'x f32':>6} {'e2e it/s':>9} {'x f32':>6} {'peak MB':>8}")
    for row in rows:
        if "error" in row:
            print(f"{row['policy']:15} {'on' if row['xla'] else 'off':4} failed: {row['error']}")
            continue
        cells = []
        for key in (
            "backbone_frames_per_s",
            "head_iterations_per_s",
            "end_to_end_iterations_per_s",
        ):
            ratio = row[key] / base[key] if base.get(key) else float("nan")
            cells.append(
                f"{row[key]:>{13 if 'backbone' in key else 10 if 'head' in key else 9}.2f}"
            )
            cells.append(f"{ratio:>6.2f}")
        peaks = [row[k] for k in row if k.endswith("peak_bytes") and row[k] is not None]
        peak = f"{max(peaks) / 2**20:8.0f}" if peaks else f"{'n/a':>8}"
        print(f"{row['policy']:15} {'on' if row['xla'] else 'off':4} {' '.join(cells)} {peak}")
    with open(args.json, "w") as file:
        json.dump({"device": device, "sizes": sizes, "rows": rows}, file, indent=2)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
