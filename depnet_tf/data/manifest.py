"""`Manifest`: the one table of videos, their face-frame folders, labels, splits and subjects.

The generic CSV has the columns `video_id, frames, label, split, subject`:

- `video_id`: unique name of the video (for AVEC2014, `<subj>_<sess>_<Task>`);
- `frames`: folder of face crops (OpenFace or `depnet faces` output), absolute
  or relative to the CSV's folder;
- `label`: the BDI-II score, a number in 0-63;
- `split`: for example `train`, `dev`, `test`;
- `subject`: subject id; a subject's videos belong in one split.

Ids become file names (`<cache>/<video_id>.npz`, explanation folders), so
`video_id` and `subject` must be plain names (`files.name_problem`): no path
separators, no leading `.` (so no `..`), no control characters, at most
`files.MAX_NAME_LENGTH` bytes. A row that breaks this is refused by number.

Two optional columns name the evaluation conventions (see
`depnet_tf.evaluation`): `session`, the recording session a video belongs to
(AVEC2014 records two tasks per session: `<subj>_<sess>`), and `task` (for
AVEC2014, `Freeform` or `Northwind`). Empty values mean "unknown".
"""

import os

import pandas as pd

from depnet_tf import files
from depnet_tf.constants import BDI_MAX
from depnet_tf.data.frames import list_frames
from depnet_tf.errors import DataError, excerpt
from depnet_tf.faces.openface import MIN_CONFIDENCE
from depnet_tf.files import atomic_path

COLUMNS = ("video_id", "frames", "label", "split", "subject")
OPTIONAL_COLUMNS = ("session", "task")


class Manifest:
    """A validated table of videos (pandas-backed).

    Build it with `Manifest.read(csv)`, `Manifest(dataframe, root)`, or for the
    AVEC layouts `depnet_tf.data.avec.avec2014_manifest(...)` / `avec2013_manifest(...)`.

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
        optional = [c for c in OPTIONAL_COLUMNS if c in table.columns]
        table = table.loc[:, list(COLUMNS) + optional].copy()
        for column in optional:
            table[column] = table[column].fillna("")
        for column in ("video_id", "frames", "split", "subject", *optional):
            table[column] = table[column].astype(str).str.strip()
        self._check_names(table)
        table["label"] = [self._label(row, value) for row, value in enumerate(table["label"])]
        duplicated = table["video_id"].duplicated(keep="first")
        if duplicated.any():
            row = int(duplicated.to_numpy().nonzero()[0][0])
            raise DataError(
                f"{source}: row {row + 2}: duplicate video_id {table['video_id'].iloc[row]!r}"
            )
        table["frames"] = [files.resolve(self.root, p) for p in table["frames"]]
        if check_frames:
            for row, folder in enumerate(table["frames"]):
                if not files.isdir(folder):
                    raise DataError(
                        f"{source}: row {row + 2} (video_id={table['video_id'].iloc[row]}): "
                        f"frame folder {folder} does not exist"
                    )
        self.table = table.reset_index(drop=True)

    def _check_names(self, table):
        """Ids become file names (cache entries, explanation folders): names, never paths."""
        for column in ("video_id", "subject"):
            for row, value in enumerate(table[column]):
                if column == "subject" and value == "":
                    continue  # an unknown subject
                problem = files.name_problem(value)
                if problem is not None:
                    raise DataError(
                        f"{self.source}: row {row + 2}: {column} {excerpt(value)} {problem}"
                    )

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
        """Load and validate a manifest CSV (a local path or a `tf.io.gfile` URL)."""
        path = os.fspath(path)
        if not files.isfile(path):
            raise DataError(f"{path}: no such manifest file")
        try:
            with files.open_file(path) as file:
                table = pd.read_csv(file, dtype=str, skipinitialspace=True, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise DataError(f"{path}: cannot parse the manifest CSV ({error})") from None
        return cls(
            table,
            root=path.rsplit("/", 1)[0]
            if files.is_url(path)
            else os.path.dirname(os.path.abspath(path)),
            source=path,
            check_frames=check_frames,
        )

    def write(self, path):
        """Write the CSV atomically, with local `frames` relative to a local CSV's folder."""
        path = os.fspath(path)
        table = self.table.copy()
        if not files.is_url(path):
            folder = os.path.dirname(os.path.abspath(path))
            table["frames"] = [
                p if files.is_url(p) else os.path.relpath(p, folder) for p in table["frames"]
            ]
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

    def subject_overlap(self):
        """{subject: sorted splits} of every subject with videos in more than one split."""
        splits = self.table.groupby("subject")["split"].unique()
        return {subject: sorted(names) for subject, names in splits.items() if len(names) > 1}

    def check_subjects(self, allow_overlap=False):
        """Refuse a subject whose videos sit in two splits: it leaks into the test scores.

        Args:
            allow_overlap: accept it (the official AVEC partitions share
                subjects); the overlap is returned so the caller can record it.

        Returns:
            `subject_overlap()`, empty when every subject is in one split.
        """
        overlap = self.subject_overlap()
        if overlap and not allow_overlap:
            subject, names = next(iter(overlap.items()))
            more = f" (and {len(overlap) - 1} more subjects)" if len(overlap) > 1 else ""
            raise DataError(
                f"{self.source}: subject {subject!r} has videos in the splits {names}{more}; "
                "a subject's videos must stay in one split, or its test scores are inflated. "
                "Set data.allow_subject_overlap: true to accept it (it is logged)"
            )
        return overlap

    def frames(self, video_id, min_confidence=MIN_CONFIDENCE):
        """Sorted (frame number, image path) of one video's usable face frames."""
        folder = self.table.loc[self.table["video_id"] == video_id, "frames"]
        if folder.empty:
            raise DataError(f"{self.source}: no video_id {video_id!r}")
        return list_frames(folder.iloc[0], min_confidence)
