"""Run `depnet` as users do: a separate process, through the installed console script."""

import contextlib
import os
import subprocess
import sys

import pytest

DEPNET = os.path.join(os.path.dirname(sys.executable), "depnet")


def depnet(*args, cwd=None, timeout=600, env=None):
    """`depnet ARGS...` in a fresh process; returns the CompletedProcess (text)."""
    environment = {k: v for k, v in os.environ.items() if k != "DEPNET_DEBUG"}
    environment.update(env or {})
    return subprocess.run(
        [DEPNET, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )


def python(code, *args, cwd=None):
    """`python -c CODE ARGS...` in a fresh process (to make inputs the way users do)."""
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )


def one_error_line(result, command):
    """The single stderr line of a failed command, checked to be `depnet CMD: error: ...`."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f"depnet {command}: error: "), lines[0]
    return lines[0]


@contextlib.contextmanager
def small_disk(path, size="2m"):
    """A tmpfs of `size` mounted at `path` (root only; skips otherwise)."""
    os.makedirs(path, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a full disk) needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
