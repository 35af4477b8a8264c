import os

import numpy as np
import pandas as pd
import tensorflow as tf

from depnet_tf import DepNetConfig, build_depnet
from depnet_tf.data import Manifest, build_cache, clip_dataset, feature_dataset, pipeline


def test_parallel_calls_is_the_usable_cores():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert pipeline.parallel_calls() == expected >= 1


def test_finish_batches_prefetches_and_switches_autotuning_off():
    dataset = pipeline.finish(tf.data.Dataset.range(7), batch_size=3)
    assert dataset.options().autotune.enabled is False
    assert [batch.tolist() for batch in dataset.as_numpy_iterator()] == [[0, 1, 2], [3, 4, 5], [6]]


def test_clip_and_feature_datasets_run_without_autotuning(extracted, tmp_path):
    out, _ = extracted
    pd.DataFrame(
        [
            {
                "video_id": "301_1",
                "frames": str(out / "301_1_Freeform_video_aligned"),
                "label": 10,
                "split": "train",
                "subject": "301",
            }
        ]
    ).to_csv(tmp_path / "m.csv", index=False)
    manifest = Manifest.read(tmp_path / "m.csv")
    clips = clip_dataset(
        manifest, "train", num_frames=3, clips_per_video=2, image_size=32, batch_size=2
    )
    model = build_depnet(
        DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=8)
    )
    build_cache(model, manifest, tmp_path / "cache", progress=False)
    features = feature_dataset(
        tmp_path / "cache", manifest, "train", 3, clips_per_video=2, batch_size=2
    )
    for dataset in (clips, features):
        assert dataset.options().autotune.enabled is False
        x, y = next(iter(dataset))
        assert x.shape[:2] == (2, 3) and np.all(y.numpy() == 10)
