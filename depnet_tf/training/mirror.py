"""A run in `tf.io.gfile` storage that another machine can resume.

A run whose `train.out_dir` is a URL is written to a local staging folder and
uploaded when it finishes (`depnet_tf.training.trainer`). On a preemptible VM
that folder dies with the machine, so `RunMirror` also copies what a resume
needs to the URL at the end of every epoch: the resumable state and
`history.csv`, then the backup (in `URL/resume/`). `fetch_backup` brings them
back into an empty staging folder, so a run started again on any machine goes
on from the last mirrored epoch.

The order keeps the URL resumable at every moment. The backup of epoch n needs
`backup_state/state-<n>.json` (`resume.ResumableState`), which is uploaded
first; the state files of older epochs are deleted only after the backup has
been replaced, and each file appears whole (`files.upload`: a temporary object,
then a rename).
"""

import os
import shutil

import keras

from depnet_tf import files
from depnet_tf.training.resume import BACKUP_FILE as BACKUP
from depnet_tf.training.resume import state_file_names

REMOTE = "resume"  # one flat folder at the URL: the backup and the state files


class RunMirror(keras.callbacks.Callback):
    """Copy a staged run's backup, its state and its history to `url` after every epoch.

    They go to `url/resume/` (removed when the run has finished) and
    `url/history.csv`, the backup last. Put it after the backup, `ResumableState`
    and the CSV logger, so that it mirrors what they wrote for the epoch that
    just ended.
    """

    def __init__(self, local_dir, url):
        super().__init__()
        self.local_dir = local_dir
        self.url = url.rstrip("/")

    def on_epoch_end(self, epoch, logs=None):
        remote = f"{self.url}/{REMOTE}"
        state_dir = os.path.join(self.local_dir, "backup_state")
        local_state = state_file_names(os.listdir(state_dir) if os.path.isdir(state_dir) else [])
        remote_state = state_file_names(files.listdir(remote) if files.isdir(remote) else [])
        for name in sorted(local_state):
            if name.startswith("state-") or name not in remote_state:  # best weights never change
                files.upload(os.path.join(state_dir, name), f"{remote}/{name}")
        history = os.path.join(self.local_dir, "history.csv")
        if os.path.isfile(history):  # rows past the backup's epoch are trimmed on resume
            files.upload(history, f"{self.url}/history.csv")
        backup = os.path.join(self.local_dir, "backup", BACKUP)
        if os.path.isfile(backup):
            files.upload(backup, f"{remote}/{BACKUP}")
        for name in remote_state - local_state:
            files.remove(f"{remote}/{name}")


def fetch_backup(url, local_dir):
    """Download a mirrored run's backup into `local_dir` unless it holds one; True if it did.

    The backup file comes last, so a download cut short leaves no backup that
    the next start would take for complete.
    """
    remote = f"{url.rstrip('/')}/{REMOTE}"
    if os.path.isfile(os.path.join(local_dir, "backup", BACKUP)):
        return False
    if not files.isfile(f"{remote}/{BACKUP}"):
        return False
    wanted = [(f"{url.rstrip('/')}/history.csv", os.path.join(local_dir, "history.csv"))]
    wanted += [
        (f"{remote}/{name}", os.path.join(local_dir, "backup_state", name))
        for name in sorted(state_file_names(files.listdir(remote)))
    ]
    wanted.append((f"{remote}/{BACKUP}", os.path.join(local_dir, "backup", BACKUP)))
    for source, target in wanted:
        if not files.isfile(source):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with files.local_copy(source) as copy, files.atomic_path(target) as temporary:
            shutil.copyfile(copy, temporary)
    return True


def forget_backup(url):
    """Remove a finished run's mirrored backup and state from `url`."""
    files.remove(f"{url.rstrip('/')}/{REMOTE}")
