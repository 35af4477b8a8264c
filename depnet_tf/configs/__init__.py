"""The configs shipped with depnet_tf: the paper's settings and the eight AVEC runs.

They are package data, so an installed depnet_tf has them: `depnet train
--config paper` (or `avec2014-depnet`, ...) names one, `depnet configs` lists
them and `depnet configs show NAME` prints one with its `base:` chain resolved.
A name is a file's stem here; anything else given to `--config` is a path.
"""

import os

FOLDER = os.path.dirname(os.path.abspath(__file__))


def names():
    """The shipped configs' names, sorted."""
    return sorted(n[: -len(".yaml")] for n in os.listdir(FOLDER) if n.endswith(".yaml"))


def path(name):
    """The file of shipped config `name` (`paper`, `paper.yaml`), or None if there is none."""
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    if os.sep in stem or (os.altsep and os.altsep in stem) or stem not in names():
        return None
    return os.path.join(FOLDER, f"{stem}.yaml")


def describe(name):
    """The first comment line of shipped config `name`: what it is."""
    with open(path(name), encoding="utf-8") as file:
        for line in file:
            if line.startswith("#"):
                return line.lstrip("# ").strip()
    return ""


def resolve(value):
    """The file `--config VALUE` means: an existing path, else a shipped config's name.

    Returns the path, or None when `value` is neither (the caller says so).
    """
    value = os.fspath(value)
    if os.path.isfile(value):
        return value
    return path(value)
