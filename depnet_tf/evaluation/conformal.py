"""Split conformal prediction intervals for BDI-II scores, calibrated on dev-set residuals.

With n calibration videos and their absolute residuals |y - p|, `q` is the
ceil((n+1)(1-alpha))-th smallest residual; a new video's interval is
`prediction +- q`, clipped to the BDI-II range 0-63. For exchangeable videos it
covers the true score with probability at least 1 - alpha. When
ceil((n+1)(1-alpha)) > n there are too few calibration videos: the interval is
unbounded (`q` is None) and every output says so, never inventing one.
"""

import json
import math
import os

import numpy as np

from depnet_tf import files
from depnet_tf.constants import BDI_MAX
from depnet_tf.errors import DataError
from depnet_tf.files import atomic_path

ALPHA = 0.1


def conformal_quantile(residuals, alpha=ALPHA):
    """`q` for absolute residuals at miscoverage `alpha`, or None when n is too small."""
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` must be in (0, 1). Received: alpha={alpha!r}")
    residuals = np.sort(np.abs(np.asarray(residuals, np.float64)))
    rank = math.ceil((len(residuals) + 1) * (1 - alpha))
    if rank > len(residuals):
        return None
    return float(residuals[rank - 1])


def calibrate(labels, predictions, alpha=ALPHA):
    """The calibration record stored with a model: {"alpha", "q", "n", "method"}."""
    residuals = np.asarray(labels, np.float64) - np.asarray(predictions, np.float64)
    q = conformal_quantile(residuals, alpha)
    return {
        "alpha": float(alpha),
        "q": q,
        "n": int(len(residuals)),
        "method": "split conformal, absolute residuals on the calibration (dev) videos",
        "needed_n": needed_calibration(alpha),
    }


def needed_calibration(alpha=ALPHA):
    """The fewest calibration videos that give a bounded interval at `alpha`."""
    n = 1
    while math.ceil((n + 1) * (1 - alpha)) > n:
        n += 1
    return n


def interval(predictions, q):
    """(lower, upper) of each prediction: prediction +- q clipped to 0-63 (None when q is)."""
    predictions = np.asarray(predictions, np.float64)
    if q is None:
        return None
    return np.clip(predictions - q, 0, BDI_MAX), np.clip(predictions + q, 0, BDI_MAX)


def coverage(labels, predictions, q):
    """The share of `labels` inside their predictions' intervals (1.0 when unbounded)."""
    bounds = interval(predictions, q)
    if bounds is None:
        return 1.0
    labels = np.asarray(labels, np.float64)
    return float(np.mean((labels >= bounds[0]) & (labels <= bounds[1])))


def describe(record):
    """One line saying what interval a calibration record gives."""
    if record is None:
        return "no prediction interval: the model is not calibrated (depnet calibrate)"
    if record["q"] is None:
        return (
            f"prediction interval unbounded: {record['n']} calibration videos are too few "
            f"for alpha={record['alpha']} (needs {record['needed_n']})"
        )
    return (
        f"{100 * (1 - record['alpha']):.0f}% prediction interval: +- {record['q']:.2f} "
        f"(split conformal, {record['n']} calibration videos)"
    )


def calibrate_model(model_path, weights_sha256, predictions, source, alpha=ALPHA):
    """Calibrate a model on its own per-video predictions and store the record beside it.

    Args:
        model_path: the model file or folder the record goes beside.
        weights_sha256: the model's weights digest (`models.weights_hash`).
        predictions: its per-video table (`depnet evaluate`), with `model_sha256`.
        source: the predictions CSV's path, for messages and the record.
        alpha: the miscoverage.

    Returns:
        (the record's path, the record). The record also holds the model's
        weights digest and the predictions file's SHA-256, so the interval is
        traceable to the model and the videos that made it.

    Raises:
        DataError: the predictions do not say which model made them, or were
            made by another model.
    """
    from depnet_tf.digests import file_sha256
    from depnet_tf.evaluation.per_video import MODEL_COLUMN, model_of

    made_by = model_of(predictions, source)
    if made_by is None:
        raise DataError(
            f"{source}: does not say which model made these predictions (no {MODEL_COLUMN} "
            "column); make them with `depnet evaluate`"
        )
    if made_by != weights_sha256:
        raise DataError(
            f"{source}: predictions of the model with weights {made_by}, but {model_path} has "
            f"{weights_sha256}; evaluate this model on the dev split first"
        )
    record = calibrate(predictions["label"], predictions["prediction"], alpha)
    record["model_weights_sha256"] = weights_sha256
    record["calibration_file"] = files.absolute(source)
    record["predictions_sha256"] = file_sha256(source)
    return write_calibration(model_path, record), record


def calibration_path(model_path):
    """Where a model's calibration is stored: `<model>.calibration.json` beside it."""
    return f"{os.fspath(model_path).rstrip(os.sep)}.calibration.json"


def write_calibration(model_path, record):
    """Store a calibration record with a model (atomically); returns its path."""
    path = calibration_path(model_path)
    with atomic_path(path) as temporary:
        with open(temporary, "w") as file:
            json.dump(record, file, indent=2)
    return path


def read_calibration(model_path, weights_sha256=None):
    """The calibration stored with a model, or None (never a default interval).

    Args:
        model_path: the model file or folder; its record is `<model>.calibration.json`.
        weights_sha256: the model's weights digest (`models.weights_hash`). A record
            made for other weights (a retrained model in the same folder), or one
            that does not say which weights it was made for, is then refused: its
            interval belongs to another model.
    """
    path = calibration_path(model_path)
    if not files.isfile(path):
        return None
    try:
        with files.open_file(path, "r") as file:
            record = json.loads(file.read())
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: cannot read the calibration ({error})") from None
    record = check_calibration(record, path)
    if weights_sha256 is not None:
        check_calibration_model(record, weights_sha256, path, model_path)
    return record


def check_calibration_model(record, weights_sha256, where, model_path):
    """Refuse a calibration record made for other weights than `weights_sha256`."""
    made_for = record.get("model_weights_sha256")
    if made_for is None:
        raise DataError(
            f"{where}: does not record which model it was made for; run `depnet calibrate "
            f"{model_path} DEV_PREDICTIONS` again"
        )
    if made_for != weights_sha256:
        raise DataError(
            f"{where}: made for weights {made_for}, but {model_path} has {weights_sha256} "
            "(retrained since?); run `depnet calibrate` again"
        )
    return record


def check_calibration(record, where):
    """`record` if it is a calibration record (or None); a `DataError` naming `where` if not.

    A record has `alpha` in (0, 1), `n` >= 0 calibration videos, and `q`, the
    interval's half-width: a finite number >= 0, or null (too few videos).
    """
    if record is None:
        return None

    def number(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    ok = isinstance(record, dict) and {"alpha", "q", "n"} <= set(record)
    ok = ok and number(record["alpha"]) and 0 < record["alpha"] < 1
    ok = ok and number(record["n"]) and record["n"] >= 0
    ok = ok and (record["q"] is None or (number(record["q"]) and 0 <= record["q"] < float("inf")))
    if not ok:
        raise DataError(
            f"{where}: not a calibration record (needs alpha in (0, 1), n >= 0 and q >= 0 or null)"
        )
    return record
