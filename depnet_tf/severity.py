"""BDI-II severity bands (paper, Table 1)."""

import numpy as np

from depnet_tf.constants import SEVERITY_NAMES, SEVERITY_UPPER


def severity_band(scores):
    """Band index per score: 0 none/minimal (0-13), 1 mild (14-19), 2 moderate (20-28),
    3 severe (29-63). Scores are rounded to the nearest integer first, as BDI-II
    totals are integers; out-of-range predictions fall in the end bands.

    Examples:
    >>> severity_band([0, 13.4, 13.6, 19, 28, 29, 70]).tolist()
    [0, 0, 1, 1, 2, 3, 3]
    """
    rounded = np.rint(np.asarray(scores, dtype=np.float64))
    return np.searchsorted(np.asarray(SEVERITY_UPPER[:-1]), rounded, side="left").astype(np.int32)


def severity_name(band):
    return SEVERITY_NAMES[int(band)]
