"""Shared timing helper of the benchmark scripts."""

import time


def best_of(repeats, function, warmup=False):
    """The fastest of `repeats` calls of `function`, in seconds (after one unmeasured call)."""
    if warmup:
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)
