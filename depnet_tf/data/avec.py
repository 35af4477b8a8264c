"""AVEC2013 and AVEC2014 folder layouts (docs/design.md, "AVEC data conventions") -> a `Manifest`.

- AVEC2014: `<Partition>/<Task>/<subj>_<sess>_<Task>_video.mp4`, labels in
  `<Partition>_DepressionLabels/<subj>_<sess>_Depression.csv` (both tasks share
  one); test labels possibly under `AVEC2014_Labels_Testset/Testing/DepressionLabels/`.
- AVEC2013: `<Partition>/<subj>_<sess>_cut_combined.mp4` (any depth); labels as
  for AVEC2014.
"""

import os
import re
import warnings

import pandas as pd

from depnet_tf import files
from depnet_tf.constants import AVEC_DATASETS
from depnet_tf.data.manifest import COLUMNS, OPTIONAL_COLUMNS, Manifest
from depnet_tf.errors import DataError
from depnet_tf.faces.openface import aligned_dir
from depnet_tf.faces.video import find_videos

AVEC_SPLITS = {"Training": "train", "Development": "dev", "Testing": "test"}
AVEC2014_VIDEO = re.compile(r"^(\d+)_(\d+)_(Freeform|Northwind)_video$", re.IGNORECASE)
AVEC2013_VIDEO = re.compile(r"^(\d+)_(\d+)_cut_combined$", re.IGNORECASE)


def avec2014_manifest(video_root, label_root, faces_dir):
    """The AVEC2014 manifest: one row per recording (task), `video_id` `<subj>_<sess>_<Task>`."""
    return _avec_manifest(video_root, label_root, faces_dir, AVEC2014_VIDEO)


def avec2013_manifest(video_root, label_root, faces_dir):
    """The AVEC2013 manifest: one row per video, `video_id` `<subj>_<sess>`."""
    return _avec_manifest(video_root, label_root, faces_dir, AVEC2013_VIDEO)


# The data sets `depnet manifest` knows, by name.
DATASETS = {"avec2014": avec2014_manifest, "avec2013": avec2013_manifest}
assert tuple(DATASETS) == AVEC_DATASETS


def _parts(path, root):
    """The folder names of `path` below `root` (local paths or URLs)."""
    root = os.fspath(root).rstrip("/")
    return path[len(root) :].strip("/").split("/") if path.startswith(root) else []


def _avec_videos(video_root):
    """(video path, partition) for every video under a Training/Development/Testing folder."""
    if not files.isdir(video_root):
        raise DataError(f"{video_root}: no such video folder")
    found = []
    for path in find_videos([video_root]):
        parts = _parts(path, video_root)
        partition = next((p for p in parts if p in AVEC_SPLITS), None)
        if partition is not None:
            found.append((path, partition))
    return found


def _read_avec_labels(label_root):
    """{(partition, 'subj_sess'): label} from every `*_Depression.csv` under `label_root`."""
    if not files.isdir(label_root):
        raise DataError(f"{label_root}: no such label folder")
    labels = {}
    for folder, _, names in files.walk(label_root):
        parts = _parts(folder, label_root)
        partition = next((p.split("_")[0] for p in parts if p.split("_")[0] in AVEC_SPLITS), None)
        for name in names:
            if not name.endswith("_Depression.csv") or partition is None:
                continue
            path = os.path.join(folder, name)
            with files.open_file(path, "r") as file:
                text = file.read().strip()
            try:
                labels[(partition, name[: -len("_Depression.csv")])] = float(text)
            except ValueError:
                raise DataError(f"{path}: label {text!r} is not a number") from None
    return labels


def _avec_manifest(video_root, label_root, faces_dir, pattern):
    """Rows for every video whose name matches `pattern` (groups: subject, session[, task])."""
    labels = _read_avec_labels(label_root)
    rows = []
    for path, partition in _avec_videos(video_root):
        stem = os.path.splitext(os.path.basename(path))[0]
        match = pattern.match(stem)
        if not match:
            continue
        subject, session = match.group(1), match.group(2)
        task = match.group(3) if pattern.groups >= 3 else ""
        key = (partition, f"{subject}_{session}")
        if key not in labels:
            raise DataError(
                f"{path}: no label file {key[1]}_Depression.csv for partition {partition}"
            )
        rows.append(
            {
                "video_id": "_".join(match.groups()),
                "frames": aligned_dir(faces_dir, stem),
                "label": labels[key],
                "split": AVEC_SPLITS[partition],
                "subject": subject,
                "session": key[1],
                "task": task.capitalize(),
            }
        )
    if not rows:
        raise DataError(f"{video_root}: no AVEC videos found under Training/Development/Testing")
    table = pd.DataFrame(rows, columns=[*COLUMNS, *OPTIONAL_COLUMNS])
    missing = [f for f in table["frames"] if not files.isdir(f)]
    if missing:
        warnings.warn(
            f"{len(missing)} frame folders do not exist yet (first: {missing[0]}); "
            "run `depnet faces` before training",
            stacklevel=3,
        )
    return Manifest(table, root=".", source=os.fspath(video_root), check_frames=False)
