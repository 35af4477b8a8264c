def test_backup_is_one_atomic_file_and_resumes_the_epoch(tmp_path):
    import os

    import h5py
    import keras
    import numpy as np

    from depnet_tf.training.resume import AtomicBackupAndRestore

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    backup = tmp_path / "backup"
    callback = AtomicBackupAndRestore(str(backup), delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    assert sorted(os.listdir(backup)) == ["latest.weights.h5"]  # no JSON, no temporary files
    with h5py.File(backup / "latest.weights.h5", "r") as file:
        assert file.attrs[AtomicBackupAndRestore.EPOCH_ATTR] == 2
    (backup / ".tmp-dead-latest.weights.h5").write_bytes(b"\x89HDF")  # a save killed midway
    history = model.fit(
        x,
        y,
        epochs=3,
        verbose=0,
        callbacks=[AtomicBackupAndRestore(str(backup), delete_checkpoint=False)],
    )
    assert history.epoch == [2]


def test_history_is_trimmed_to_the_backups_epoch(tmp_path):
    import keras
    import numpy as np

    from depnet_tf.training.resume import AtomicBackupAndRestore, backup_epochs, trim_history

    history = tmp_path / "history.csv"
    rows = "epoch,loss,val_rmse\n0,3.5,NA\n1,2.5,NA\n2,2.0,4.25\n"
    history.write_text(rows)
    trim_history(history, None)  # an unreadable backup: keep everything
    assert history.read_text() == rows
    trim_history(history, 2)
    assert history.read_text() == "epoch,loss,val_rmse\n0,3.5,NA\n1,2.5,NA\n"  # as written
    trim_history(history, 0)  # a fresh start
    assert not history.exists()
    trim_history(history, 1)  # nothing to trim

    backup = tmp_path / "backup"
    assert backup_epochs(backup) == 0
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    callback = AtomicBackupAndRestore(str(backup), delete_checkpoint=False)
    model.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=3, verbose=0, callbacks=[callback])
    assert backup_epochs(backup) == 3
    (backup / "latest.weights.h5").write_bytes(b"not hdf5")
    assert backup_epochs(backup) is None


def test_a_resume_keeps_the_best_checkpoints_best_value(tmp_path):
    """A resumed run must not replace best.weights.h5 with a worse epoch."""
    import keras
    import numpy as np

    from depnet_tf.training.callbacks import AtomicModelCheckpoint
    from depnet_tf.training.resume import AtomicBackupAndRestore, ResumableState

    class Scripted(keras.callbacks.Callback):
        """val_rmse 3, 1, then 2: only the second epoch is the best."""

        def on_epoch_end(self, epoch, logs=None):
            logs["val_rmse"] = [3.0, 1.0, 2.0][epoch]

    def callbacks():
        best = AtomicModelCheckpoint(
            str(tmp_path / "best.weights.h5"), monitor="val_rmse", mode="min", save_best_only=True
        )
        backup = AtomicBackupAndRestore(str(tmp_path / "backup"))
        state = ResumableState(str(tmp_path / "state"), backup, best_checkpoint=best)
        return [Scripted(), best, backup, state]

    class Killed(BaseException):
        pass

    class KillAfterTwoEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise Killed

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    try:
        model.fit(x, y, epochs=3, verbose=0, callbacks=[*callbacks(), KillAfterTwoEpochs()])
    except Killed:
        pass
    stamp = (tmp_path / "best.weights.h5").stat().st_mtime_ns
    resumed = callbacks()
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=resumed)
    assert history.epoch == [2] and resumed[1].best == 1.0
    assert (tmp_path / "best.weights.h5").stat().st_mtime_ns == stamp  # epoch 3 was worse
