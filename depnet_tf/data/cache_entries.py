"""The feature cache on disk: its metadata, its per-video entries, and reading them as a stream.

A cache is a folder (local, or a `tf.io.gfile` URL such as `gs://bucket/cache`):

- `meta.json`: what the features depend on (`model.feature_spec()`: backbone
  weights hash, stem, image size, channel pool, preprocessing);
- `<video_id>.npz`: an uncompressed NumPy zip of `features` (n, N) float16,
  `frames` (n,), the frame numbers, and `source`, the digest of the frames
  they were computed from (`data.frames.frames_source`). An entry whose frames
  have changed since is recomputed by `depnet cache` and refused by readers.

Why this format (README, "Differences from the paper" and "Scaling out"): one
file per video lets shards of `depnet cache` write side by side with no merge
step, and because `np.savez` stores its arrays uncompressed, one frame's
features sit at a fixed byte offset. `EntryIndex` reads a video's header once
(a few hundred bytes); `StreamingEntries` then reads only the T rows a clip
needs with seek + read, which `tf.io.gfile` also does on object stores (ranged
reads). Nothing holds the features of all videos, so memory stays bounded
whatever the cache's size, and random clip sampling stays exactly as it was.
TFRecord shards were the alternative; they read sequentially, so sampling
random frames of any video would need shuffle buffers and would change which
clips a seed draws.
"""

import collections
import json
import os
import struct
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from depnet_tf import files
from depnet_tf.errors import DataError

FEATURES, FRAMES, SOURCE = "features.npy", "frames.npy", "source.npy"
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... name length, extra length
# Open entry files kept by a streaming reader (each a small buffered handle).
OPEN_FILES = 64


def read_meta(cache_dir):
    """The cache's `meta.json`; a missing or unreadable one is a `DataError` naming it."""
    path = os.path.join(cache_dir, "meta.json")
    if not files.isfile(path):
        raise DataError(
            f"{cache_dir}: no feature cache here (missing meta.json); run `depnet cache`"
        )
    try:
        with files.open_file(path, "r") as file:
            meta = json.loads(file.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(
            f"{path}: damaged cache metadata ({error}); delete the cache folder and "
            "run `depnet cache` again"
        ) from None
    if not isinstance(meta, dict) or "feature_shape" not in meta:
        raise DataError(f"{path}: not a feature cache's metadata (no feature_shape)")
    return meta


def write_meta(cache_dir, spec):
    with files.atomic_path(os.path.join(cache_dir, "meta.json")) as temporary:
        with open(temporary, "w") as file:
            json.dump(spec, file, indent=2)


def check_cache(cache_dir, spec):
    """Refuse a cache whose features were computed with other settings."""
    meta = read_meta(cache_dir)
    differing = sorted(k for k in set(meta) | set(spec) if meta.get(k) != spec.get(k))
    if differing:
        details = ", ".join(
            f"{k}: cache {meta.get(k)!r} vs model {spec.get(k)!r}" for k in differing
        )
        raise DataError(
            f"{cache_dir}: the cache was built with other settings ({details}); "
            "rebuild it with `depnet cache` or use the matching model"
        )
    return meta


def entry_path(cache_dir, video_id):
    """`<cache_dir>/<video_id>.npz`; `video_id` must be a plain name (`files.check_name`)."""
    return files.child_path(cache_dir, video_id, suffix=".npz", what="video_id")


def _damaged(path, error):
    return DataError(f"{path}: damaged cache entry ({error or type(error).__name__})")


def _check_shapes(path, shape, dtype, count, dim):
    if len(shape) != 2 or dtype != np.float16 or count != shape[0] or shape[0] == 0:
        raise DataError(
            f"{path}: damaged cache entry (features {shape} {dtype}, {count} frame numbers)"
        )
    if dim is not None and shape[1] != dim:
        raise DataError(f"{path}: damaged cache entry ({shape[1]} features per frame, not {dim})")


def _not_cached(path, cache_dir, video_id):
    if cache_dir is not None:
        return DataError(f"{cache_dir}: video {video_id!r} is not cached; run `depnet cache`")
    return DataError(f"{path}: no such cache entry")


def read_entry(path, dim=None, cache_dir=None, video_id=None):
    """(features (n, N) float16, frame numbers (n,)) of one whole entry, verified.

    The zip members carry CRC-32 checksums, checked as they are read; the
    shapes must agree with each other and with `dim`.

    Raises:
        DataError: naming the file, when it is missing, truncated, corrupt or inconsistent.
    """
    if not files.isfile(path):
        raise _not_cached(path, cache_dir, video_id)
    try:
        with files.open_file(path) as file, np.load(file) as data:
            features, frames = data["features"], data["frames"]
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as error:
        raise _damaged(path, error) from None
    _check_shapes(path, features.shape, features.dtype, len(frames), dim)
    return features, frames


def write_entry(path, features, frames, source=""):
    """Write one entry atomically, after reading the temporary file back.

    `source` is the digest of the frames the features come from (`frames_source`).
    """
    with files.atomic_path(path) as temporary:
        with open(temporary, "wb") as file:
            np.savez(file, features=features, frames=np.asarray(frames), source=np.array(source))
        read_entry(temporary, features.shape[1])


def stale_entry_problem(index, source):
    """Why an entry (`EntryIndex`) was not computed from frames with digest `source`, or None."""
    if not index.source:
        return f"{index.path}: the entry does not record which frames it was computed from"
    if index.source != source:
        return (
            f"{index.path}: computed from other frames than the manifest's now "
            "(its frame folder, OpenFace CSV or faces record changed since)"
        )
    return None


class _CompressedError(Exception):
    pass


class EntryIndex:
    """Where one entry's feature rows are: its frame numbers, shape and byte offset.

    Reading it costs the zip directory, the `features` header and the (small)
    frame numbers, never the features.
    """

    def __init__(self, path, dim=None, cache_dir=None, video_id=None):
        self.path = path
        if not files.isfile(path):
            raise _not_cached(path, cache_dir, video_id)
        try:
            with files.open_file(path) as file, zipfile.ZipFile(file) as archive:
                info = archive.getinfo(FEATURES)
                if info.compress_type != zipfile.ZIP_STORED:
                    raise _CompressedError
                with archive.open(FRAMES) as member:
                    self.frames = np.lib.format.read_array(member)
                self.source = ""
                if SOURCE in archive.namelist():
                    with archive.open(SOURCE) as member:
                        self.source = str(np.lib.format.read_array(member))
                with archive.open(FEATURES) as member:
                    version = np.lib.format.read_magic(member)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, fortran_order, dtype = read_header(member)
                    header_bytes = member.tell()
                file.seek(info.header_offset)
                signature, name_length, extra_length = _LOCAL_HEADER.unpack(
                    file.read(_LOCAL_HEADER.size)
                )
        except _CompressedError:
            raise DataError(
                f"{path}: compressed cache entry (np.savez_compressed); features are read "
                "by byte offset, so write entries with np.savez"
            ) from None
        except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, struct.error) as e:
            raise _damaged(path, e) from None
        if signature != b"PK\x03\x04" or fortran_order:
            raise _damaged(path, "unexpected zip layout")
        _check_shapes(path, shape, dtype, len(self.frames), dim)
        self.count, self.dim = shape
        self.row_bytes = self.dim * dtype.itemsize
        self.offset = (
            info.header_offset + _LOCAL_HEADER.size + name_length + extra_length + header_bytes
        )
        if info.file_size != header_bytes + self.count * self.row_bytes:
            raise _damaged(path, f"{info.file_size} bytes of features for shape {shape}")


def index_entries(cache_dir, names, dim):
    """`EntryIndex` of each named video, read in parallel (object stores answer slowly)."""
    paths = [entry_path(cache_dir, name) for name in names]
    with ThreadPoolExecutor(max_workers=16 if files.is_url(cache_dir) else 4) as pool:
        return list(
            pool.map(lambda item: EntryIndex(item[1], dim, cache_dir, item[0]), zip(names, paths))
        )


class StreamingEntries:
    """Feature rows read from the entries on demand.

    Args:
        indexes: `EntryIndex` of each video, in dataset order.
    """

    def __init__(self, indexes):
        self.indexes = indexes
        self.counts = [index.count for index in indexes]
        self.numbers = [index.frames.astype(np.int32) for index in indexes]

    def open(self):
        """A reader for one pass (readers of concurrent passes share no file handles)."""
        return _RowReader(self.indexes)


class _RowReader:
    """Reads feature rows with seek + read, keeping at most `OPEN_FILES` files open."""

    def __init__(self, indexes):
        self.indexes = indexes
        self._open = collections.OrderedDict()

    def _file(self, video):
        if video in self._open:
            self._open.move_to_end(video)
            return self._open[video]
        while len(self._open) >= OPEN_FILES:
            self._open.popitem(last=False)[1].close()
        self._open[video] = files.open_file(self.indexes[video].path)
        return self._open[video]

    def rows(self, video, positions):
        """Features (len(positions), N) float16 of the given frame positions of one video."""
        index = self.indexes[video]
        file = self._file(video)
        wanted = np.unique(positions)
        out = np.empty((len(wanted), index.dim), np.float16)
        # Consecutive positions are read together: one seek and read per run.
        runs = np.split(wanted, np.flatnonzero(np.diff(wanted) != 1) + 1)
        row = 0
        for run in runs:
            file.seek(index.offset + int(run[0]) * index.row_bytes)
            data = file.read(len(run) * index.row_bytes)
            if len(data) != len(run) * index.row_bytes:
                raise _damaged(index.path, "truncated while reading")
            out[row : row + len(run)] = np.frombuffer(data, np.float16).reshape(len(run), -1)
            row += len(run)
        return out[np.searchsorted(wanted, positions)]

    def close(self):
        while self._open:
            self._open.popitem()[1].close()


class InMemoryEntries:
    """Every entry read whole into memory and CRC-checked: for small caches, as before streaming."""

    def __init__(self, cache_dir, names, dim):
        entries = [read_entry(entry_path(cache_dir, n), dim, cache_dir, n) for n in names]
        self.features = [features for features, _ in entries]
        self.counts = [len(features) for features in self.features]
        self.numbers = [numbers.astype(np.int32) for _, numbers in entries]

    def open(self):
        return self

    def rows(self, video, positions):
        return self.features[video][positions]

    def close(self):
        pass
