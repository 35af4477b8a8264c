import pandas as pd
import pytest

from depnet_tf.data import DataError, Manifest
from depnet_tf.data.avec import avec2013_manifest, avec2014_manifest


def write_manifest(tmp_path, rows):
    path = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def folders(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    return tmp_path


def test_reads_relative_frame_folders(folders):
    path = write_manifest(
        folders,
        [
            {"video_id": "v1", "frames": "a", "label": 12, "split": "train", "subject": "s1"},
            {"video_id": "v2", "frames": "b", "label": "30.5", "split": "test", "subject": "s2"},
        ],
    )
    manifest = Manifest.read(path)
    assert manifest.splits == ["test", "train"]
    assert manifest.split("test")["label"].tolist() == [30.5]
    assert manifest.table["frames"].iloc[0] == str(folders / "a")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"label": "abc"}, r"row 3: label 'abc' is not a number"),
        ({"label": 64}, r"row 3: label 64 is outside the BDI-II range 0-63"),
        ({"label": -1}, r"row 3: label -1 is outside"),
        ({"video_id": "v1"}, r"row 3: duplicate video_id 'v1'"),
        ({"frames": "nowhere"}, r"row 3 \(video_id=v2\): frame folder .*nowhere does not exist"),
    ],
)
def test_bad_rows_are_named(folders, change, message):
    rows = [
        {"video_id": "v1", "frames": "a", "label": 12, "split": "train", "subject": "s1"},
        {"video_id": "v2", "frames": "b", "label": 20, "split": "train", "subject": "s2", **change},
    ]
    with pytest.raises(DataError, match=message) as error:
        Manifest.read(write_manifest(folders, rows))
    assert "\n" not in str(error.value) and "manifest.csv" in str(error.value)


def test_missing_columns_and_file(tmp_path):
    path = write_manifest(tmp_path, [{"video_id": "v", "label": 3}])
    with pytest.raises(DataError, match=r"missing columns \['frames', 'split', 'subject'\]"):
        Manifest.read(path)
    with pytest.raises(DataError, match="no such manifest file"):
        Manifest.read(tmp_path / "none.csv")


def test_empty_split_names_the_existing_ones(folders):
    manifest = Manifest.read(
        write_manifest(
            folders,
            [{"video_id": "v1", "frames": "a", "label": 1, "split": "train", "subject": "s"}],
        )
    )
    with pytest.raises(DataError, match=r"split 'dev' is empty; the splits are \['train'\]"):
        manifest.split("dev")


def test_write_roundtrip(folders):
    manifest = Manifest.read(
        write_manifest(
            folders,
            [{"video_id": "v1", "frames": "a", "label": 1, "split": "train", "subject": "s"}],
        )
    )
    out = folders / "copy" / "m.csv"
    manifest.write(out)
    assert pd.read_csv(out)["frames"].tolist() == ["../a"]
    assert Manifest.read(out).table.equals(manifest.table)


def make_avec2014(root):
    videos, labels = root / "videos", root / "labels"
    entries = {
        "Training": [("203", "1", 7)],
        "Development": [("205", "2", 30)],
        "Testing": [("210", "1", 15)],
    }
    for partition, items in entries.items():
        for subject, session, label in items:
            for task in ("Freeform", "Northwind"):
                folder = videos / partition / task
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{subject}_{session}_{task}_video.mp4").write_bytes(b"x")
            label_dir = (
                labels / "AVEC2014_Labels_Testset" / "Testing" / "DepressionLabels"
                if partition == "Testing"
                else labels / f"{partition}_DepressionLabels"
            )
            label_dir.mkdir(parents=True, exist_ok=True)
            (label_dir / f"{subject}_{session}_Depression.csv").write_text(f"{label}\n")
    return videos, labels


def test_avec2014_layout(tmp_path):
    videos, labels = make_avec2014(tmp_path)
    with pytest.warns(UserWarning, match="frame folders do not exist yet"):
        manifest = avec2014_manifest(videos, labels, tmp_path / "faces")
    table = manifest.table.set_index("video_id")
    assert sorted(table.index) == [
        "203_1_Freeform",
        "203_1_Northwind",
        "205_2_Freeform",
        "205_2_Northwind",
        "210_1_Freeform",
        "210_1_Northwind",
    ]
    assert (
        table.loc["205_2_Northwind", "label"] == 30
        and table.loc["205_2_Northwind", "split"] == "dev"
    )
    assert (
        table.loc["210_1_Freeform", "split"] == "test"
        and table.loc["210_1_Freeform", "subject"] == "210"
    )
    assert table.loc["203_1_Freeform", "frames"].endswith("faces/203_1_Freeform_video_aligned")


def test_avec2013_layout_and_missing_label(tmp_path):
    videos, labels = tmp_path / "v", tmp_path / "l"
    (videos / "Training").mkdir(parents=True)
    (videos / "Training" / "236_1_cut_combined.mp4").write_bytes(b"x")
    (labels / "Training_DepressionLabels").mkdir(parents=True)
    (labels / "Training_DepressionLabels" / "236_1_Depression.csv").write_text("24")
    with pytest.warns(UserWarning):
        manifest = avec2013_manifest(videos, labels, tmp_path / "faces")
    assert manifest.table[["video_id", "label", "split", "subject"]].values.tolist() == [
        ["236_1", 24.0, "train", "236"]
    ]
    (videos / "Testing").mkdir()
    (videos / "Testing" / "240_2_cut_combined.mp4").write_bytes(b"x")
    with pytest.raises(DataError, match="no label file 240_2_Depression.csv for partition Testing"):
        avec2013_manifest(videos, labels, tmp_path / "faces")


def test_avec2014_layout_in_gfile_storage(tmp_path):
    """Videos, labels and faces in `ram://`: the same manifest as on local disk."""
    import uuid

    import tensorflow as tf

    videos, labels = make_avec2014(tmp_path)
    root = f"ram://avec-{uuid.uuid4().hex[:8]}"
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            target = f"{root}/{path.relative_to(tmp_path).as_posix()}"
            tf.io.gfile.makedirs(target.rsplit("/", 1)[0])
            tf.io.gfile.copy(str(path), target)
    with pytest.warns(UserWarning, match="frame folders do not exist yet"):
        local = avec2014_manifest(videos, labels, tmp_path / "faces")
    with pytest.warns(UserWarning, match=f"first: {root}/faces/"):
        remote = avec2014_manifest(f"{root}/videos", f"{root}/labels", f"{root}/faces")
    columns = ["video_id", "label", "split", "subject", "session", "task"]
    assert remote.table[columns].equals(local.table[columns])
    assert remote.table["frames"].tolist() == [
        f"{root}/faces/{f.rsplit('/', 1)[1]}" for f in local.table["frames"]
    ]
    remote.write(f"{root}/manifest.csv")
    again = Manifest.read(f"{root}/manifest.csv", check_frames=False)
    assert again.table["frames"].tolist() == remote.table["frames"].tolist()
