"""The streaming feature cache: same clips as the in-memory cache, bounded files, gfile URLs."""

import json
import os
import tempfile
import uuid

import numpy as np
import pandas as pd
import pytest

from depnet_tf.data import DataError, Manifest, cache_entries, feature_dataset, verify_cache
from depnet_tf.data.cache_entries import EntryIndex, entry_path, write_entry
from depnet_tf.data.frames import frames_source, list_frames
from depnet_tf.files import is_url

DIM = 12


def synthetic_cache(folder, counts, seed=0):
    """A cache of random float16 features (the real entry layout) and a manifest over it.

    Each video gets a frame folder of empty `.png` files: only their names are
    read, for the digest of the frames an entry was computed from.
    """
    rng = np.random.default_rng(seed)
    local = tempfile.mkdtemp() if is_url(folder) else os.fspath(folder)
    cache_entries.write_meta(folder, {"feature_shape": [DIM]})
    records = []
    for index, count in enumerate(counts):
        name = f"v{index}"
        frames_dir = os.path.join(local, "frames", name)
        os.makedirs(frames_dir, exist_ok=True)
        numbers = np.arange(count) * 3 + 1
        for number in numbers:
            open(os.path.join(frames_dir, f"frame_det_00_{number:06d}.png"), "wb").close()
        features = rng.normal(size=(count, DIM)).astype(np.float16)
        source = frames_source(list_frames(frames_dir))
        write_entry(entry_path(folder, name), features, numbers, source)
        records.append(
            {
                "video_id": name,
                "frames": frames_dir,
                "label": float(index),
                "split": "train" if index % 4 else "dev",
                "subject": f"s{index}",
            }
        )
    return Manifest(pd.DataFrame(records), source="synthetic")


def drawn(dataset):
    """Every element of a dataset, as NumPy arrays (features, labels, ids, frame numbers)."""
    return [tuple(np.asarray(part) for part in batch) for batch in dataset]


def assert_same(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


# Videos shorter than T=5 are sampled with replacement (repeated positions).
COUNTS = [7, 3, 12, 30, 5, 9, 2, 16]


@pytest.mark.parametrize("training", [True, False])
def test_streaming_draws_exactly_the_in_memory_clips(tmp_path, training):
    manifest = synthetic_cache(tmp_path, COUNTS)
    common = dict(
        num_frames=5,
        clips_per_video=3,
        training=training,
        seed=4,
        batch_size=4,
        with_ids=True,
        with_frames=True,
    )
    with pytest.warns(UserWarning, match="sampled with replacement"):
        streamed = feature_dataset(tmp_path, manifest, "train", **common)
    with pytest.warns(UserWarning):
        in_memory = feature_dataset(tmp_path, manifest, "train", in_memory=True, **common)
    for _ in range(2):  # two epochs: fresh clips each, the same from both readers
        assert_same(drawn(streamed), drawn(in_memory))


def test_rows_are_the_entry_rows_with_few_open_files(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_entries, "OPEN_FILES", 2)
    manifest = synthetic_cache(tmp_path, COUNTS)
    names = manifest.table["video_id"].tolist()
    streaming = cache_entries.StreamingEntries(cache_entries.index_entries(tmp_path, names, DIM))
    reader = streaming.open()
    rng = np.random.default_rng(0)
    for _ in range(40):
        video = int(rng.integers(len(names)))
        positions = np.sort(rng.integers(0, COUNTS[video], 6))
        features, numbers = cache_entries.read_entry(entry_path(tmp_path, names[video]))
        np.testing.assert_array_equal(reader.rows(video, positions), features[positions])
        np.testing.assert_array_equal(streaming.numbers[video], numbers)
        assert len(reader._open) <= 2
    reader.close()


def test_damaged_entries_are_named_before_training(tmp_path):
    manifest = synthetic_cache(tmp_path, [6, 6, 6, 6])
    path = entry_path(tmp_path, "v1")
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) - 50)
    with pytest.raises(DataError, match=f"^{path}: damaged cache entry"):
        feature_dataset(tmp_path, manifest, "train", 3)
    np.savez_compressed(path, features=np.zeros((6, DIM), np.float16), frames=np.arange(6) * 3 + 1)
    with pytest.raises(DataError, match=f"^{path}: compressed cache entry"):
        EntryIndex(path, DIM)
    os.remove(path)
    with pytest.raises(DataError, match=r"video 'v1' is not cached; run `depnet cache`"):
        feature_dataset(tmp_path, manifest, "train", 3)


def test_a_cache_in_gfile_storage_streams_the_same_clips(tmp_path):
    local = synthetic_cache(tmp_path, COUNTS)
    remote = f"ram://cache-{uuid.uuid4().hex}"
    synthetic_cache(remote, COUNTS)
    assert verify_cache(remote, local) == []
    common = dict(num_frames=5, clips_per_video=2, training=True, seed=1, with_ids=True)
    with pytest.warns(UserWarning):
        assert_same(
            drawn(feature_dataset(remote, local, "train", **common)),
            drawn(feature_dataset(tmp_path, local, "train", **common)),
        )
    assert json.loads(open(tmp_path / "meta.json").read())["feature_shape"][-1] == DIM


def test_entries_computed_from_other_frames_are_refused(tmp_path):
    manifest = synthetic_cache(tmp_path, [6, 6, 6, 6])
    feature_dataset(tmp_path, manifest, "train", 3)  # as cached: accepted
    frames_dir = manifest.table.loc[1, "frames"]
    os.remove(os.path.join(frames_dir, "frame_det_00_000004.png"))  # a frame less now
    with pytest.raises(DataError, match=r"v1.npz: computed from other frames.*video 'v1'"):
        feature_dataset(tmp_path, manifest, "train", 3)
    assert verify_cache(tmp_path, manifest)[0][0] == "v1"
    # An entry of an earlier version records nothing: refused too, never trusted.
    path = entry_path(tmp_path, "v2")
    np.savez(path, features=np.zeros((6, DIM), np.float16), frames=np.arange(6) * 3 + 1)
    assert "does not record which frames" in dict(verify_cache(tmp_path, manifest))["v2"]
