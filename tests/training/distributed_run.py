"""Run `train` in a fresh process, for the tf.distribute tests.

    python -m tests.training.distributed_run CONFIG OUT_DIR STRATEGY [LOGICAL_CPUS [SUMMARY]]

Logical CPU devices must be configured before TensorFlow starts, hence a process.
The run's summary (JSON) is written to SUMMARY (default OUT_DIR/summary.json);
the chief's final weights to OUT_DIR/weights.npz.
"""

import json
import os
import sys


def main():
    config_path, out_dir, strategy = sys.argv[1:4]
    cpus = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    summary_path = sys.argv[5] if len(sys.argv) > 5 else os.path.join(out_dir, "summary.json")
    import numpy as np
    import tensorflow as tf

    if cpus > 1:
        device = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            device, [tf.config.LogicalDeviceConfiguration()] * cpus
        )
    import keras

    from depnet_tf.training.config import read_config
    from depnet_tf.training.trainer import train

    config = read_config(
        config_path,
        {
            "train.out_dir": out_dir,
            "train.max_epochs": 2,
            "model.dropout": 0.0,
            "data.val_split": None,
        },
    )
    summary = train(config, strategy=strategy, progress=False)
    with open(summary_path, "w") as file:
        json.dump(summary, file)
    if summary.get("worker", 0) == 0:
        model = keras.saving.load_model(summary["model"])
        np.savez(os.path.join(out_dir, "weights.npz"), *[w.numpy() for w in model.weights])


if __name__ == "__main__":
    main()
