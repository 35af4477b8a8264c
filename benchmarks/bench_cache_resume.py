"""What resuming `depnet cache` costs on a finished cache: structure check vs whole read.

A resumed `depnet cache` (and every shard of a job array started again) first
decides which entries are finished. It checks each entry's structure
(`EntryIndex`: zip directory, header, sizes); `depnet cache --verify` reads each
entry whole against its CRC-32 (`read_entry`). This writes a synthetic cache in
the real layout (as `bench_cache_scale.py` does) and times both over every
entry, with the bytes each reads. The files were just written, so both read
from the page cache: on a cold disk or an object store the whole read costs
far more, the structure check about the same.

    .venv/bin/python benchmarks/bench_cache_resume.py [--size 2] [--dir /tmp]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.bench_cache_scale import write_cache  # noqa: E402


class CountingReads:
    """Counts the bytes read through `files.open_file` while active."""

    def __init__(self):
        from depnet_tf import files

        self.files, self.bytes = files, 0

    def __enter__(self):
        original = self.original = self.files.open_file
        counter = self

        class Counted:
            def __init__(self, handle):
                self.handle = handle

            def read(self, *args):
                data = self.handle.read(*args)
                counter.bytes += len(data)
                return data

            def __getattr__(self, name):
                return getattr(self.handle, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.handle.close()

        def open_file(path, mode="rb"):
            return Counted(original(path, mode))

        self.files.open_file = open_file
        return self

    def __exit__(self, *exc):
        self.files.open_file = self.original


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=2.0, help="cache size in GB")
    parser.add_argument("--frames", type=int, default=600, help="frames per video")
    parser.add_argument("--dir", default=None, help="where to write the cache")
    args = parser.parse_args()

    import pandas as pd

    from depnet_tf.data.cache_entries import EntryIndex, entry_path, read_entry

    root = tempfile.mkdtemp(prefix="bench-cache-resume-", dir=args.dir)
    try:
        cache = os.path.join(root, "cache")
        manifest = write_cache(cache, args.size, args.frames)
        names = pd.read_csv(manifest)["video_id"].tolist()
        paths = [entry_path(cache, name) for name in names]
        size = sum(os.path.getsize(p) for p in paths)
        rows = []
        for label, check in (
            ("structure (resume)", lambda p: EntryIndex(p)),
            ("whole read (--verify)", lambda p: read_entry(p)),
        ):
            with CountingReads() as counted:  # cache_entries reads through files.open_file
                began = time.perf_counter()
                for path in paths:
                    check(path)
                seconds = time.perf_counter() - began
            rows.append((label, seconds, counted.bytes))
        print(f"cache: {len(paths)} videos x {args.frames} frames, {size / 1e9:.2f} GB")
        print(f"{'check':<24}{'seconds':>10}{'MB read':>12}")
        for label, seconds, read in rows:
            print(f"{label:<24}{seconds:>10.2f}{read / 1e6:>12.1f}")
        print(f"whole read / structure: {rows[1][1] / rows[0][1]:.0f}x the time")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
