import errno
import os
import subprocess

import pytest

from depnet_tf.errors import StorageError
from depnet_tf.files import (
    atomic_path,
    ensure_free_space,
    remove_stale_temporaries,
    storage_error,
    temporary_name,
)


def dead_pid():
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_atomic_path_renames_on_success_and_cleans_on_failure(tmp_path):
    target = tmp_path / "a.txt"
    with atomic_path(target) as temporary:
        assert os.path.basename(temporary).startswith(".tmp-") and temporary.endswith("-a.txt")
        open(temporary, "w").write("done")
    assert target.read_text() == "done"
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "b.txt") as temporary:
        open(temporary, "w").write("half")
        raise RuntimeError
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]


def test_storage_errors_name_the_final_path(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(
        StorageError, match=f"^{target}: cannot write \\(no space left on device\\)$"
    ):
        with atomic_path(target):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert os.listdir(tmp_path) == []
    assert storage_error(OSError(errno.EINVAL, "bad"), "x") is None


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    host = os.path.basename(temporary_name(tmp_path / "x")).split(".")[1].split("-", 1)[1]
    dead = tmp_path / f".tmp-{host}.{dead_pid()}.abcdef-v_aligned"
    dead.mkdir()
    (dead / "f.png").write_bytes(b"x")
    alive = tmp_path / f".tmp-{host}.1.abcdef-model.keras"  # pid 1 runs
    alive.write_bytes(b"x")
    legacy_old = tmp_path / ".tmp-0123abcd-old.npz"  # an older version's name, long untouched
    legacy_old.write_bytes(b"x")
    os.utime(legacy_old, (0, 0))
    other_host_new = tmp_path / ".tmp-elsewhere.42.abcdef-new.npz"  # another host, just written
    other_host_new.write_bytes(b"x")
    mine = tmp_path / ".tmp-notours"  # not our pattern
    mine.write_bytes(b"x")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted([dead.name, legacy_old.name])
    assert alive.exists() and other_host_new.exists() and mine.exists()


def test_own_active_temporary_is_kept(tmp_path):
    with atomic_path(tmp_path / "a.bin") as temporary:
        open(temporary, "wb").write(b"x")
        assert remove_stale_temporaries(tmp_path) == []
        assert os.path.exists(temporary)


def test_free_space_is_checked_before_writing(tmp_path):
    with pytest.raises(StorageError, match="not enough free space for the weights: it needs about"):
        ensure_free_space(tmp_path / "not" / "yet", 10**18, "the weights")
    ensure_free_space(tmp_path, 1)


def test_gfile_urls_are_written_atomically_and_trees_upload_saved_model_last(tmp_path, monkeypatch):
    import uuid

    import tensorflow as tf

    from depnet_tf.files import is_url, local_copy, staging_dir, upload_tree

    root = f"ram://files-{uuid.uuid4().hex[:8]}"
    assert is_url(root) and not is_url(tmp_path)
    with atomic_path(f"{root}/a/b.txt") as temporary:
        assert not is_url(temporary)
        open(temporary, "w").write("done")
        assert not tf.io.gfile.exists(f"{root}/a/b.txt")  # not visible before the end
    assert tf.io.gfile.GFile(f"{root}/a/b.txt").read() == "done"
    with pytest.raises(RuntimeError), atomic_path(f"{root}/a/c.txt") as temporary:
        open(temporary, "w").write("half")
        raise RuntimeError
    assert tf.io.gfile.listdir(f"{root}/a") == ["b.txt"]

    # a folder: every file copied, saved_model.pb after all the others
    local = tmp_path / "version"
    (local / "variables").mkdir(parents=True)
    for name in ("saved_model.pb", "variables/variables.index", "fingerprint.pb"):
        (local / name).write_text(name)
    order = []
    copy = tf.io.gfile.copy

    def recording_copy(source, target, overwrite=False):
        order.append(os.path.basename(target))
        copy(source, target, overwrite=overwrite)

    monkeypatch.setattr(tf.io.gfile, "copy", recording_copy)
    upload_tree(str(local), f"{root}/version")
    monkeypatch.undo()
    assert order[-1] == "saved_model.pb" and len(order) == 3
    with local_copy(f"{root}/version") as copied:
        assert open(os.path.join(copied, "variables", "variables.index")).read() == (
            "variables/variables.index"
        )
    assert staging_dir(f"{root}/run") == staging_dir(f"{root}/run") != staging_dir(root)


def test_stale_upload_temporaries_in_gfile_storage_are_removed(tmp_path):
    import uuid

    import tensorflow as tf

    root = f"ram://stale-{uuid.uuid4().hex[:8]}"
    tf.io.gfile.makedirs(root)
    dead = (
        f"{root}/.tmp-{temporary_name('x').split('.tmp-')[1].split('.')[0]}.{dead_pid()}.abcdef-m"
    )
    with tf.io.gfile.GFile(dead, "w") as file:
        file.write("half")
    with tf.io.gfile.GFile(f"{root}/kept.txt", "w") as file:
        file.write("done")
    assert remove_stale_temporaries(root) == [dead.rsplit("/", 1)[1]]
    assert tf.io.gfile.listdir(root) == ["kept.txt"]


def test_resolve_joins_and_normalises_local_paths_and_urls():
    from depnet_tf.files import resolve

    assert resolve("/data/avec", "faces/../faces/v1_aligned") == "/data/avec/faces/v1_aligned"
    assert resolve("/data/avec", "/elsewhere/v1") == "/elsewhere/v1"
    assert resolve("gs://bucket/avec/", "faces/./v1_aligned") == "gs://bucket/avec/faces/v1_aligned"
    assert resolve("gs://bucket/avec", "../other/v1") == "gs://bucket/other/v1"
    assert resolve("/data", "ram://x/a/../b") == "ram://x/b"


def test_upload_tree_replaces_files_whole(tmp_path):
    # TensorFlow's ram:// filesystem appends to a file that is copied over.
    import tensorflow as tf

    from depnet_tf.files import upload_tree

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "history.csv").write_text("epoch\n0\n")
    upload_tree(tmp_path / "run", "ram://upload-tree/run")
    (tmp_path / "run" / "history.csv").write_text("epoch\n0\n1\n")
    upload_tree(tmp_path / "run", "ram://upload-tree/run")
    with tf.io.gfile.GFile("ram://upload-tree/run/history.csv") as file:
        assert file.read() == "epoch\n0\n1\n"
