"""Splitting a batch stage over machines: shard I of N takes a disjoint, deterministic share.

`depnet faces` and `depnet cache` take `--shard I/N`. Shard I takes every N-th
item of the sorted item names, starting at the I-th, so N processes that see the
same inputs cover every item exactly once, and their outputs (one per video)
sit side by side with no merge step. A scheduler's job array supplies I:
`--shard ${JOB_COMPLETION_INDEX}/N` (Kubernetes Indexed Jobs) or
`--shard ${SLURM_ARRAY_TASK_ID}/N` (SLURM arrays).
"""


def parse_shard(text):
    """`"I/N"` -> (I, N), with 0 <= I < N; a `ValueError` names what is wrong."""
    index, sep, count = str(text).partition("/")
    try:
        index, count = int(index), int(count)
    except ValueError:
        raise ValueError(
            f"a shard is I/N with whole numbers, e.g. 0/4. Received: {text!r}"
        ) from None
    if not sep or count < 1 or not 0 <= index < count:
        raise ValueError(f"a shard I/N needs 0 <= I < N. Received: {text!r}")
    return index, count


def shard_of(names, shard):
    """The names of shard (I, N) (all of them when `shard` is None), in sorted order."""
    ordered = sorted(names, key=str)
    if shard is None:
        return ordered
    index, count = shard
    return ordered[index::count]
