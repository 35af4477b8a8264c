"""`Manifest`: the one table of videos, their face-frame folders, labels, splits and subjects.

The generic CSV has the columns `video_id, frames, label, split, subject`:

- `video_id`: unique name of the video (for AVEC2014, `<subj>_<sess>_<Task>`);
- `frames`: folder of face crops (OpenFace or `depnet faces` output), absolute
  or relative to the CSV's folder;
- `label`: the BDI-II score, a number in 0-63;
- `split`: for example `train`, `dev`, `test`;
- `subject`: subject id; a subject's videos belong in one split.
"""

import os
import re
import warnings

import pandas as pd

from depnet_tf.atomic import atomic_path
from depnet_tf.constants import BDI_MAX
from depnet_tf.data import openface
from depnet_tf.data.errors import DataError

COLUMNS = ("video_id", "frames", "label", "split", "subject")
AVEC_SPLITS = {"Training": "train", "Development": "dev", "Testing": "test"}
AVEC2014_VIDEO = re.compile(r"^(\d+)_(\d+)_(Freeform|Northwind)_video$", re.IGNORECASE)
AVEC2013_VIDEO = re.compile(r"^(\d+)_(\d+)_cut_combined$", re.IGNORECASE)


class Manifest:
    """A validated table of videos (pandas-backed).

    Build it with `Manifest.read(csv)`, `Manifest(dataframe, root)`,
    `Manifest.avec2014(...)` or `Manifest.avec2013(...)`.

    Args:
        table: a DataFrame with `COLUMNS`.
        root: folder that relative `frames` paths are relative to.
        source: name used in error messages (the CSV path).
        check_frames: also require every `frames` folder to exist.

    Raises:
        DataError: a missing column, a non-numeric or out-of-range label, a
            duplicate video id or a missing frame folder, naming the row.
    """

    def __init__(self, table, root=".", source="manifest", check_frames=True):
        self.source = source
        self.root = os.fspath(root)
        missing = [c for c in COLUMNS if c not in table.columns]
        if missing:
            raise DataError(f"{source}: missing columns {missing}; expected {list(COLUMNS)}")
        table = table.loc[:, list(COLUMNS)].copy()
        for column in ("video_id", "frames", "split", "subject"):
            table[column] = table[column].astype(str).str.strip()
        table["label"] = [self._label(row, value) for row, value in enumerate(table["label"])]
        duplicated = table["video_id"].duplicated(keep="first")
        if duplicated.any():
            row = int(duplicated.to_numpy().nonzero()[0][0])
            raise DataError(
                f"{source}: row {row + 2}: duplicate video_id {table['video_id'].iloc[row]!r}"
            )
        table["frames"] = [os.path.normpath(os.path.join(self.root, p)) for p in table["frames"]]
        if check_frames:
            for row, folder in enumerate(table["frames"]):
                if not os.path.isdir(folder):
                    raise DataError(
                        f"{source}: row {row + 2} (video_id={table['video_id'].iloc[row]}): "
                        f"frame folder {folder} does not exist"
                    )
        self.table = table.reset_index(drop=True)

    def _label(self, row, value):
        # Rows are numbered as in the file: the header is line 1.
        where = f"{self.source}: row {row + 2}"
        try:
            label = float(value)
        except (TypeError, ValueError):
            raise DataError(f"{where}: label {value!r} is not a number") from None
        if not 0 <= label <= BDI_MAX:
            raise DataError(f"{where}: label {label:g} is outside the BDI-II range 0-{BDI_MAX}")
        return label

    @classmethod
    def read(cls, path, check_frames=True):
        """Load and validate a manifest CSV."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise DataError(f"{path}: no such manifest file")
        try:
            table = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise DataError(f"{path}: cannot parse the manifest CSV ({error})") from None
        return cls(table, root=os.path.dirname(os.path.abspath(path)), source=path,
                   check_frames=check_frames)

    def write(self, path):
        """Write the CSV atomically, with `frames` relative to its folder where possible."""
        folder = os.path.dirname(os.path.abspath(path))
        table = self.table.copy()
        table["frames"] = [os.path.relpath(p, folder) for p in table["frames"]]
        with atomic_path(path) as temporary:
            table.to_csv(temporary, index=False)

    def __len__(self):
        return len(self.table)

    @property
    def splits(self):
        return sorted(self.table["split"].unique())

    def split(self, name):
        """The rows of one split; an empty split is an error naming the ones there are."""
        rows = self.table[self.table["split"] == name]
        if rows.empty:
            raise DataError(f"{self.source}: split {name!r} is empty; the splits are {self.splits}")
        return rows

    def frames(self, video_id, min_confidence=openface.MIN_CONFIDENCE):
        """Sorted (frame number, image path) of one video's usable face frames."""
        folder = self.table.loc[self.table["video_id"] == video_id, "frames"]
        if folder.empty:
            raise DataError(f"{self.source}: no video_id {video_id!r}")
        return openface.list_frames(folder.iloc[0], min_confidence)

    # --- AVEC layouts (SPEC section 5) -------------------------------------------------

    @classmethod
    def avec2014(cls, video_root, label_root, faces_dir):
        """AVEC2014: `<Partition>/<Task>/<subj>_<sess>_<Task>_video.mp4`; labels in
        `<Partition>_DepressionLabels/<subj>_<sess>_Depression.csv` (both tasks share one),
        test labels possibly under `AVEC2014_Labels_Testset/Testing/DepressionLabels/`."""
        return _avec_manifest(video_root, label_root, faces_dir, AVEC2014_VIDEO)

    @classmethod
    def avec2013(cls, video_root, label_root, faces_dir):
        """AVEC2013: `<Partition>/<subj>_<sess>_cut_combined.mp4` (any depth); labels as for
        AVEC2014, in `<Partition>_DepressionLabels/<subj>_<sess>_Depression.csv`."""
        return _avec_manifest(video_root, label_root, faces_dir, AVEC2013_VIDEO)


def _avec_videos(video_root):
    """(video path, partition) for every video under a Training/Development/Testing folder."""
    from depnet_tf.data.video import find_videos

    if not os.path.isdir(video_root):
        raise DataError(f"{video_root}: no such video folder")
    found = []
    for path in find_videos([video_root]):
        parts = os.path.relpath(path, video_root).split(os.sep)
        partition = next((p for p in parts if p in AVEC_SPLITS), None)
        if partition is not None:
            found.append((path, partition))
    return found


def _read_avec_labels(label_root):
    """{(partition, 'subj_sess'): label} from every `*_Depression.csv` under `label_root`."""
    if not os.path.isdir(label_root):
        raise DataError(f"{label_root}: no such label folder")
    labels = {}
    for folder, _, files in os.walk(label_root):
        parts = os.path.relpath(folder, label_root).split(os.sep)
        partition = next((p.split("_")[0] for p in parts if p.split("_")[0] in AVEC_SPLITS), None)
        for name in files:
            if not name.endswith("_Depression.csv") or partition is None:
                continue
            path = os.path.join(folder, name)
            with open(path) as file:
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
        key = (partition, f"{subject}_{session}")
        if key not in labels:
            raise DataError(f"{path}: no label file {key[1]}_Depression.csv for partition {partition}")
        rows.append({"video_id": "_".join(match.groups()),
                     "frames": openface.aligned_dir(faces_dir, stem), "label": labels[key],
                     "split": AVEC_SPLITS[partition], "subject": subject})
    if not rows:
        raise DataError(f"{video_root}: no AVEC videos found under Training/Development/Testing")
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    missing = [f for f in table["frames"] if not os.path.isdir(f)]
    if missing:
        warnings.warn(f"{len(missing)} frame folders do not exist yet (first: {missing[0]}); "
                      "run `depnet faces` before training", stacklevel=3)
    return Manifest(table, root=".", source=os.fspath(video_root), check_frames=False)
