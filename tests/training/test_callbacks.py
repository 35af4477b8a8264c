def test_backup_is_one_atomic_file_and_resumes_the_epoch(tmp_path):
    import os

    import h5py
    import keras
    import numpy as np

    from depnet_tf.training.callbacks import AtomicBackupAndRestore

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
