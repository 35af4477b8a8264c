"""Writing files safely: atomic writes, free-space checks, and cleaning up after killed runs.

Every file and folder the package writes appears under its final name only when
complete: it is written beside the target under a temporary name
(`.tmp-<host>.<pid>.<random>-<name>`), then renamed. A killed run leaves only
such temporaries, which the next run in that folder removes
(`remove_stale_temporaries`); a full disk raises a `StorageError` naming the
path, and removes what was written.

Paths may also be `tf.io.gfile` URLs (`gs://`, `s3://` with a plugin, `ram://`).
Writers such as h5py need a local file, so a URL target is written to a local
temporary first and then uploaded (`upload`):

- a file is copied to a temporary name beside the target and renamed. Local
  disks and `ram://` rename atomically; object stores (gs://) rename by a
  server-side copy, and an object appears whole or not at all, so a reader
  never sees half a file there either;
- a folder (a SavedModel) is copied file by file, with `saved_model.pb` last:
  TF-Serving loads a version only once that file exists, so it never loads a
  half-copied version. A kill mid-copy can leave a version without
  `saved_model.pb`, which `depnet export` treats as incomplete and replaces.
"""

import contextlib
import errno
import logging
import os
import posixpath
import re
import shutil
import socket
import tempfile
import time
import uuid

from depnet_tf.errors import StorageError, excerpt

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


def is_url(path):
    """Whether `path` is a `tf.io.gfile` URL (`gs://...`, `ram://...`) rather than a local path."""
    return "://" in os.fspath(path)


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def absolute(path):
    """`os.path.abspath` for local paths; URLs are absolute already."""
    path = os.fspath(path)
    return path if is_url(path) else os.path.abspath(path)


def resolve(root, path):
    """`path` as written in a file that sits in folder `root`, made usable.

    A URL or an absolute path stays as it is; a relative one is joined to
    `root`. Both are normalised (`a/../b` -> `b`), URLs without losing their
    `scheme://`, which `os.path.normpath` would fold.
    """
    path = os.fspath(path)
    if not is_url(path) and not os.path.isabs(path):
        root = os.fspath(root)
        path = f"{root.rstrip('/')}/{path}" if is_url(root) else os.path.join(root, path)
    if is_url(path):
        scheme, rest = path.split("://", 1)
        return f"{scheme}://{posixpath.normpath(rest)}"
    return os.path.normpath(path)


# Names taken from a user's files (a manifest's `video_id`, say) become file and
# folder names. This bound leaves room for the longest name we build from one
# (`worst-<name>`, `<name>.clips.csv`) inside a temporary's name
# (`.tmp-<host:24>.<pid>.<6 hex>-`, 45 characters) within the 255 bytes that
# Linux, macOS and Windows file systems allow for one name.
MAX_NAME_LENGTH = 128


def name_problem(name):
    """Why `name` cannot be used as one file or folder name we write, or None.

    A name is one path component of at most `MAX_NAME_LENGTH` UTF-8 bytes: no
    `/` or `\\`, not `.` or `..`, no leading `.` (our temporaries start with
    one, and hidden files are skipped by listings), no NUL or other control
    characters, and not blank.
    """
    if not isinstance(name, str):
        return f"must be text, not {type(name).__name__}"
    if not name.strip():
        return "is empty"
    bad = sorted({c for c in name if ord(c) < 32 or ord(c) == 127})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad)
        return f"holds control characters ({shown}); ids are names, never paths"
    if "/" in name or "\\" in name:
        return "holds a path separator ('/' or '\\'); ids are names, never paths"
    if name.startswith("."):
        return "starts with '.' ('..' climbs out of the folder, '.tmp-' names are ours)"
    if len(name.encode("utf-8")) > MAX_NAME_LENGTH:
        return f"is {len(name.encode('utf-8'))} bytes long; at most {MAX_NAME_LENGTH} are allowed"
    return None


def check_name(name, what="name"):
    """`name` if it is usable as one file name (see `name_problem`), else a `ValueError`."""
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(f"{what} {excerpt(name)} {problem}")
    return name


def child_path(folder, name, prefix="", suffix="", what="name"):
    """`folder/<prefix><name><suffix>`, the one way a file name is built from an id.

    `name` must pass `check_name`, so the path is always directly inside
    `folder`, whatever a manifest or a predictions file holds.
    """
    check_name(name, what)
    folder = os.fspath(folder)
    leaf = f"{prefix}{name}{suffix}"
    return f"{folder.rstrip('/')}/{leaf}" if is_url(folder) else os.path.join(folder, leaf)


def _on(path, remote, local):
    """`remote(path)` for a URL (with `tf.io.gfile`), else `local(path)`."""
    path = os.fspath(path)
    return remote(_gfile(), path) if is_url(path) else local(path)


def exists(path):
    return _on(path, lambda gfile, p: gfile.exists(p), os.path.exists)


def isfile(path):
    return _on(path, lambda gfile, p: gfile.exists(p) and not gfile.isdir(p), os.path.isfile)


def isdir(path):
    return _on(path, lambda gfile, p: gfile.isdir(p), os.path.isdir)


def makedirs(path):
    _on(path, lambda gfile, p: gfile.makedirs(p), lambda p: os.makedirs(p, exist_ok=True))


def listdir(path):
    names = _on(path, lambda gfile, p: gfile.listdir(p), os.listdir)
    return [name.rstrip("/") for name in names]


def walk(path):
    """`os.walk` for local folders and URLs: (folder, subfolders, file names)."""
    for root, folders, names in _on(path, lambda gfile, p: gfile.walk(p), os.walk):
        yield root, [f.rstrip("/") for f in folders], names


def open_file(path, mode="rb"):
    """`open` for local paths, `tf.io.gfile.GFile` for URLs (both seekable for reading)."""
    return _on(path, lambda gfile, p: gfile.GFile(p, mode), lambda p: open(p, mode))


def upload_tree(local, remote, last=("saved_model.pb",)):
    """Copy a local folder into URL `remote`, file by file, the files named in `last` last.

    Files already at `remote` and not in `local` are kept. TF-Serving loads a
    version once its `saved_model.pb` exists, and a training run counts as
    finished once its `model.keras` does, so those go last.
    """
    found = []
    for root, _, names in os.walk(local):
        for name in names:
            source = os.path.join(root, name)
            found.append((name in last, os.path.relpath(source, local), source))
    gfile = _gfile()
    gfile.makedirs(remote)
    for _, relative, source in sorted(found):
        target = f"{remote.rstrip('/')}/{relative}"
        gfile.makedirs(os.path.dirname(target))
        if gfile.exists(target):  # ram:// appends to a file copied over (TF 2.21)
            gfile.remove(target)
        gfile.copy(source, target)


def upload(local, remote):
    """Put a finished local file or folder at URL `remote` (see the module notes)."""
    gfile = _gfile()
    if os.path.isdir(local):
        if gfile.exists(remote):
            gfile.rmtree(remote)
        upload_tree(local, remote)
        return
    folder, name = remote.rstrip("/").rsplit("/", 1)
    gfile.makedirs(folder)
    staged = f"{folder}/.tmp-{_host()}.{os.getpid()}.{uuid.uuid4().hex[:6]}-{name}"
    _active.add(staged)
    try:
        gfile.copy(local, staged, overwrite=True)
        gfile.rename(staged, remote, overwrite=True)
    finally:
        _active.discard(staged)
        if gfile.exists(staged):
            gfile.remove(staged)


@contextlib.contextmanager
def local_copy(path):
    """A local path holding the file or folder at `path` (downloaded when it is a URL)."""
    path = os.fspath(path)
    if not is_url(path):
        yield path
        return
    gfile = _gfile()
    with tempfile.TemporaryDirectory(prefix="depnet-download-") as folder:
        target = os.path.join(folder, path.rstrip("/").rsplit("/", 1)[-1])
        if gfile.isdir(path):
            for root, _, names in gfile.walk(path):
                relative = root[len(path.rstrip("/")) :].lstrip("/")
                os.makedirs(os.path.join(target, relative), exist_ok=True)
                for name in names:
                    gfile.copy(f"{root.rstrip('/')}/{name}", os.path.join(target, relative, name))
        else:
            gfile.copy(path, target)
        yield target


@contextlib.contextmanager
def _atomic_url(final_path):
    """`atomic_path` for a URL: a local temporary, uploaded when the writer is done."""
    with tempfile.TemporaryDirectory(prefix="depnet-upload-") as folder:
        temporary = os.path.join(folder, final_path.rstrip("/").rsplit("/", 1)[-1])
        yield temporary
        upload(temporary, final_path)


def private_dir(path):
    """Create folder `path` for this user alone (mode 0700), or refuse one we must not trust.

    A folder in a shared place (the temporary folder) that another user made,
    or that others can write to, could hold files planted for us (a backup a
    run would resume from): it is refused with a `StorageError`, never used.
    """
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError as error:
        raise storage_error(error, path) or error from None
    import stat

    if not stat.S_ISDIR(info.st_mode):
        raise StorageError(f"{path}: not a folder (a link or a file is in the way); remove it")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise StorageError(
            f"{path}: owned by another user (uid {info.st_uid}); a staging folder must be "
            "this user's own. Set TMPDIR to a folder of yours"
        )
    if info.st_mode & 0o022:
        raise StorageError(
            f"{path}: other users can write to it (mode {stat.S_IMODE(info.st_mode):o}); "
            "remove it, or set TMPDIR to a folder of yours"
        )
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def staging_dir(url):
    """A local folder standing in for URL `url` while a run writes it (the same for the same URL).

    A run whose output folder is a URL writes here first, so a killed run
    resumes on this machine as it would on a local folder, then uploads. The
    folder is per user (`depnet-staging-<uid>`, mode 0700, its owner checked:
    `private_dir`), so on a shared machine no other user can plant a backup
    for the run to resume from.
    """
    import hashlib

    key = hashlib.sha256(os.fspath(url).encode()).hexdigest()[:16]
    user = os.getuid() if hasattr(os, "getuid") else "user"
    root = private_dir(os.path.join(tempfile.gettempdir(), f"depnet-staging-{user}"))
    return os.path.join(root, key)


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
    if is_url(path):
        gfile = _gfile()
        if gfile.isdir(path):
            gfile.rmtree(path)
        elif gfile.exists(path):
            gfile.remove(path)
        return
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
    if is_url(final_path):
        with _atomic_url(final_path) as temporary:
            yield temporary
        return
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


def _modified(path):
    """When `path` (local or URL) was last written, in seconds since the epoch; None if gone."""
    if not is_url(path):
        try:
            return os.lstat(path).st_mtime
        except FileNotFoundError:
            return None
    import tensorflow as tf

    try:
        return tf.io.gfile.stat(path).mtime_nsec / 1e9
    except tf.errors.NotFoundError:
        return None


def _process_gone(pid):
    """Whether process `pid` of this host no longer runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


def _writer_gone(match, path):
    pid = match.group("pid")
    if pid is None or match.group("host") != _host():
        modified = _modified(path)
        return modified is not None and time.time() - modified > ABANDONED_AFTER_SECONDS
    pid = int(pid)
    if pid == os.getpid():
        return path not in _active
    return _process_gone(pid)


def remove_stale_temporaries(folder):
    """Remove the temporaries that killed runs left in `folder`; returns their names.

    Only this package's own `.tmp-` names are touched, and only when their
    writer is gone: a process of this host that no longer runs, or, for a
    writer on another host, a temporary untouched for `ABANDONED_AFTER_SECONDS`.
    """
    folder = os.fspath(folder)
    if not isdir(folder):
        return []
    removed = []
    for name in sorted(listdir(folder)):
        match = _TEMPORARY.match(name)
        path = os.path.join(folder, name)
        if match and _writer_gone(match, path):
            remove(path)
            removed.append(name)
    if removed:
        log.info("removed %d temporaries of killed runs in %s", len(removed), folder)
    return removed


LOCK_NAME = ".depnet.lock"


def _lock_owner(path):
    """(host, pid, text) of the lock file at `path`; (None, None, text) when unreadable."""
    try:
        with open(path) as file:
            text = file.read(200).strip()
    except FileNotFoundError:
        return None, None, None
    host, _, pid = text.partition(" ")
    return (host, int(pid), text) if pid.isdigit() else (None, None, text)


@contextlib.contextmanager
def folder_lock(folder, what):
    """Hold `folder/.depnet.lock` while `what` writes in `folder`; a rival is refused.

    The lock file is created exclusively (`O_EXCL`) and holds `<host> <pid>`.
    A lock whose owner is a process of this host that no longer runs (killed)
    is stale and taken over; so is an unreadable one older than a minute (a
    kill between creating and writing it). A live owner, or one on another
    host, makes this raise a `StorageError` naming the folder and the owner.
    URL folders are not locked (object stores have no exclusive create).
    """
    folder = os.fspath(folder)
    if is_url(folder):
        yield
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise storage_error(error, folder) or error from None
    path = os.path.join(folder, LOCK_NAME)
    for _ in range(3):
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            host, pid, text = _lock_owner(path)
            stale = (host == _host() and pid != os.getpid() and _process_gone(pid)) or (
                host is None and text is not None and time.time() - (_modified(path) or 0) > 60
            )
            if stale:
                log.info("%s: removing the lock of a killed run (%s)", folder, text or "empty")
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
                continue
            if text is None:  # released meanwhile
                continue
            owner = f"pid {pid} on host {host}" if host else f"lock {text!r}"
            raise StorageError(
                f"{folder}: another depnet process ({owner}) is writing {what} here; wait for "
                f"it to finish, or write elsewhere (if no such process runs, remove {path})",
                errno.EBUSY,
            ) from None
        except OSError as error:
            raise storage_error(error, path) or error from None
        break
    else:
        raise StorageError(f"{path}: could not take the lock (it keeps changing)", errno.EBUSY)
    try:
        os.write(handle, f"{_host()} {os.getpid()}\n".encode())
        os.close(handle)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def size(path):
    """The size in bytes of the file at `path`, local or URL."""
    return _on(path, lambda gfile, p: gfile.stat(p).length, os.path.getsize)


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
    For a URL the local disk holds the staged copy, so that is checked.
    """
    if is_url(path):
        path = tempfile.gettempdir()
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
    folder = path if is_url(path) else os.path.dirname(os.path.abspath(path))
    ensure_free_space(folder, int(size_estimate * 1.05) + 2**20, what)
    with atomic_path(path) as temporary:
        write(temporary)
    return path
