"""Atomic file and folder writes: write beside the target, then rename."""

import contextlib
import os
import shutil
import uuid


@contextlib.contextmanager
def atomic_path(final_path):
    """Yield a temporary path next to `final_path`; rename it into place on success.

    The temporary name keeps the end of the final name (so `.weights.h5` or
    `.keras` checks still pass). On an exception the temporary file or folder is
    removed and `final_path` is left untouched: a reader never sees half a file.
    """
    final_path = os.fspath(final_path)
    folder, name = os.path.split(os.path.abspath(final_path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".tmp-{uuid.uuid4().hex[:8]}-{name}")
    try:
        yield temporary
        os.replace(temporary, final_path)
    finally:
        if os.path.isdir(temporary):
            shutil.rmtree(temporary, ignore_errors=True)
        elif os.path.exists(temporary):
            os.remove(temporary)
