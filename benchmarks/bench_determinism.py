"""What `train.deterministic` costs: head training steps per second, default vs deterministic.

`depnet train` compiles the head's train step with XLA where `train.xla` says so
(`auto`, the default: on GPUs and TPUs, off on the CPU; `true`: everywhere) and,
with `train.deterministic: true`, turns on TensorFlow's op determinism and leaves
XLA off. A fourth row turns both on, to show what XLA would change in a
deterministic run. All are measured in one run on the paper's head (T=5, 224 px:
12,544 features per frame, 103 M parameters), on random features, with the
run's own optimizer and early stop. Each setting is measured in its own process
(op determinism cannot be turned off again), and each trains twice from the
same seed to show whether its weights repeat bit for bit; the weights digests
also show whether XLA and the plain kernels reach the same weights.

    .venv/bin/python benchmarks/bench_determinism.py [--steps 20] [--image-size 224]
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras, numpy as np, tensorflow as tf
from depnet_tf import DepNetConfig, build_model
from depnet_tf.models.regressor import weights_hash
from depnet_tf.training.config import DEFAULTS
from depnet_tf.training.early_stopping import IterationEarlyStopping
from depnet_tf.training.trainer import compile_like_the_paper

deterministic, steps, size = sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4])
xla = sys.argv[5] == "1"
if deterministic:
    tf.config.experimental.enable_op_determinism()
train = dict(DEFAULTS["train"], base_lr=1e-4)

def run():
    keras.utils.set_random_seed(0)
    model = build_model("depnet", DepNetConfig(image_size=size))
    head = model.head_model()
    compile_like_the_paper(head, train, jit_compile=xla)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16 * (steps + 2), *head.input_shape[1:])).astype("float32")
    y = rng.uniform(0, 63, (len(x), 1)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    head.fit(data.take(2), epochs=1, verbose=0, callbacks=[IterationEarlyStopping()])  # compile
    began = time.perf_counter()
    head.fit(data.skip(2), epochs=1, verbose=0, callbacks=[IterationEarlyStopping()])
    return steps / (time.perf_counter() - began), weights_hash(head)

(rate, first), (_, second) = run(), run()
print(json.dumps({"steps_per_second": rate, "repeats": first == second, "weights": first}))
"""


def measure(deterministic, xla, steps, size):
    flags = ["1" if deterministic else "0", str(steps), str(size), "1" if xla else "0"]
    result = subprocess.run(
        [sys.executable, "-c", CHILD, ROOT, *flags],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--image-size", type=int, default=224)
    args = parser.parse_args()
    rows = {
        "default on the CPU (no XLA)": measure(False, False, args.steps, args.image_size),
        "train.xla: true": measure(False, True, args.steps, args.image_size),
        "train.deterministic (op determinism, no XLA)": measure(
            True, False, args.steps, args.image_size
        ),
        "op determinism with XLA (not offered)": measure(True, True, args.steps, args.image_size),
    }
    base = rows["default on the CPU (no XLA)"]["steps_per_second"]
    print(f"head training, batch 16, {args.image_size} px, {args.steps} steps")
    print(f"{'setting':48} {'steps/s':>8} {'ratio':>6}  repeats  weights digest")
    for name, row in rows.items():
        rate = row["steps_per_second"]
        print(f"{name:48} {rate:8.2f} {rate / base:6.2f}  {row['repeats']!s:7}  {row['weights']}")


if __name__ == "__main__":
    main()
