"""A tiny AVEC2014-style data set of real video files, prepared as users do: by `depnet` processes.

Subjects 301-303 train, 304 is dev, and 305's session is the test split with
both tasks (Freeform and Northwind), so the per-session convention fuses two
recordings. Labels rise with the subject.
"""

import pandas as pd
import yaml

from tests.cli.process import depnet, python
from tests.faces.videos import write_face_video

SESSIONS = {
    "Training": [("301", 5, ("Freeform",)), ("302", 25, ("Freeform",)), ("303", 45, ("Freeform",))],
    "Development": [("304", 15, ("Freeform",))],
    "Testing": [("305", 35, ("Freeform", "Northwind"))],
}
SPLITS = {"train": 3, "dev": 1, "test": 2}
SAVE_BACKBONE = """
import sys, keras, depnet_tf
keras.utils.set_random_seed(0)
size = int(sys.argv[2])
depnet_tf.SENet50(input_shape=(size, size, 3)).save_weights(sys.argv[1])
"""


def write_avec2014(root):
    """The videos and label files; returns (video folder, label folder)."""
    videos, labels = root / "AVEC2014", root / "labels"
    for partition, sessions in SESSIONS.items():
        for subject, label, tasks in sessions:
            for task in tasks:
                folder = videos / partition / task
                folder.mkdir(parents=True, exist_ok=True)
                write_face_video(
                    folder / f"{subject}_1_{task}_video.avi",
                    num_frames=8,
                    size=(320, 240),
                    seed=int(subject) + len(task),
                )
            label_dir = labels / f"{partition}_DepressionLabels"
            label_dir.mkdir(parents=True, exist_ok=True)
            (label_dir / f"{subject}_1_Depression.csv").write_text(f"{label}\n")
    return videos, labels


def prepare(root, size):
    """Videos -> `depnet faces` -> `depnet manifest`; returns (videos folder, manifest path)."""
    videos, labels = write_avec2014(root)
    faces, manifest = root / "faces", root / "manifest.csv"
    result = depnet("faces", videos, "--out", faces, "--size", size, "--detect-size", 160)
    assert result.returncode == 0, result.stderr
    assert f"{sum(SPLITS.values())} videos processed" in result.stdout
    result = depnet(
        "manifest", "avec2014", videos, "--labels", labels, "--faces", faces, "-o", manifest
    )
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(manifest)["split"].value_counts().to_dict() == SPLITS
    return videos, manifest


def write_config(path, manifest, size, **sections):
    """A small training config over the data set; `sections` update its sections."""
    backbone = path.parent / f"senet50-{size}.weights.h5"
    if not backbone.exists():
        python(SAVE_BACKBONE, backbone, size)
    config = {
        "arch": "depnet",
        "model": {
            "num_frames": 3,
            "image_size": size,
            "branch_filters": 2,
            "hlf_channels": 4,
            "fc_units": 8,
            "backbone_weights": str(backbone),
        },
        "data": {
            "manifest": str(manifest),
            "cache": str(path.parent / "cache-{backbone}"),
            "clips_per_video": 4,
            "eval_clips_per_video": 2,
            "batch_size": 4,
        },
        "train": {"max_epochs": 2, "out_dir": str(path.parent / "run")},
    }
    for section, values in sections.items():
        config[section] = (
            {**config.get(section, {}), **values} if isinstance(values, dict) else values
        )
    path.write_text(yaml.safe_dump(config))
    return path
