"""Writing files safely: atomic writes, free-space checks, and cleaning up after killed runs.

Every file and folder the package writes appears under its final name only when
complete: it is written beside the target under a temporary name
(`.tmp-<host>.<pid>.<random>-<name>`), then renamed. A killed run leaves only
such temporaries, which the next run in that folder removes
(`remove_stale_temporaries`); a full disk raises a `StorageError` naming the
path, and removes what was written.
"""

import contextlib
import errno
import logging
import os
import re
import shutil
import socket
import time
import uuid

from depnet_tf.errors import StorageError

log = logging.getLogger(__name__)

# errno values that mean "this location cannot take the file" rather than a bug.
_STORAGE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EFBIG,
    errno.EEXIST,
    errno.ENAMETOOLONG,
}
_TEMPORARY = re.compile(
    r"^\.tmp-(?:(?P<host>[A-Za-z0-9-]{1,24})\.(?P<pid>\d+)\.[0-9a-f]{6}|[0-9a-f]{8})-.+"
)
# A temporary whose writer cannot be checked (another host, or an older
# version's name) counts as abandoned after this long.
ABANDONED_AFTER_SECONDS = 6 * 3600
_active = set()  # temporaries this process is writing right now


def _host():
    name = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:24]
    return name or "host"


def temporary_name(final_path):
    """A temporary path beside `final_path` that keeps the end of its name."""
    folder, name = os.path.split(os.path.abspath(os.fspath(final_path)))
    tag = f"{_host()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    return os.path.join(folder, f".tmp-{tag}-{name}")


def storage_error(error, path):
    """A one-line `StorageError` for an `OSError` writing `path`, or None for other errors."""
    if isinstance(error, StorageError):
        return error
    if isinstance(error, OSError) and error.errno in _STORAGE_ERRNOS:
        reason = os.strerror(error.errno).lower()
        return StorageError(f"{path}: cannot write ({reason})", error.errno)
    return None


def remove(path):
    """Remove a file or a folder tree, if it exists."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


@contextlib.contextmanager
def atomic_path(final_path):
    """Yield a temporary path next to `final_path`; rename it into place on success.

    The temporary name keeps the end of the final name (so `.weights.h5` or
    `.keras` checks still pass). On an exception the temporary file or folder is
    removed and `final_path` is left untouched: a reader never sees half a file.
    An `OSError` that says the location cannot take the file (a full disk, a
    read-only folder, a file in the way) becomes a `StorageError` naming
    `final_path`.
    """
    final_path = os.fspath(final_path)
    folder = os.path.dirname(os.path.abspath(final_path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise storage_error(error, final_path) or error from None
    temporary = temporary_name(final_path)
    _active.add(temporary)
    try:
        yield temporary
        os.replace(temporary, final_path)
    except OSError as error:
        converted = storage_error(error, final_path)
        if converted is None or converted is error:
            raise
        raise converted from None
    finally:
        _active.discard(temporary)
        remove(temporary)


def _writer_gone(match, path):
    pid = match.group("pid")
    if pid is None or match.group("host") != _host():
        try:
            return time.time() - os.lstat(path).st_mtime > ABANDONED_AFTER_SECONDS
        except FileNotFoundError:
            return False
    pid = int(pid)
    if pid == os.getpid():
        return path not in _active
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def remove_stale_temporaries(folder):
    """Remove the temporaries that killed runs left in `folder`; returns their names.

    Only this package's own `.tmp-` names are touched, and only when their
    writer is gone: a process of this host that no longer runs, or, for a
    writer on another host, a temporary untouched for `ABANDONED_AFTER_SECONDS`.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        return []
    removed = []
    for name in sorted(os.listdir(folder)):
        match = _TEMPORARY.match(name)
        path = os.path.join(folder, name)
        if match and _writer_gone(match, path):
            remove(path)
            removed.append(name)
    if removed:
        log.info("removed %d temporaries of killed runs in %s", len(removed), folder)
    return removed


def free_bytes(path):
    """Bytes free for an unprivileged writer on the filesystem that holds `path`."""
    path = os.path.abspath(os.fspath(path))
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def ensure_free_space(path, needed_bytes, what="the file"):
    """Refuse, before writing, a write of about `needed_bytes` that cannot fit.

    HDF5 (h5py) can crash the process when the disk fills in the middle of a
    write, so large weight files are checked first. Raises `StorageError`.
    """
    available = free_bytes(path)
    if needed_bytes > available:
        raise StorageError(
            f"{path}: not enough free space for {what}: it needs about "
            f"{_size(needed_bytes)}, {_size(available)} is free",
            errno.ENOSPC,
        )


def _size(count):
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


def write_large(path, write, size_estimate, what="the file"):
    """Write a large file (HDF5 weights, a `.keras` model) atomically, after a free-space check.

    Args:
        path: the final path.
        write: a function that writes the file at the path it is given.
        size_estimate: about how many bytes the file takes (for weights: the
            number of values times 4).
        what: how messages name the file.
    """
    # The temporary file sits beside the final one, and the final one may
    # still hold the previous version until the rename.
    ensure_free_space(
        os.path.dirname(os.path.abspath(path)), int(size_estimate * 1.05) + 2**20, what
    )
    with atomic_path(path) as temporary:
        write(temporary)
    return path
