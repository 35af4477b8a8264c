"""`build_report` and `write_report`: the statistics of one or more models' per-video predictions.

Inputs are per-video CSVs as `depnet evaluate` writes them (video_id, label,
prediction, and `subject` when the manifest has it), or an experiment folder
(every cell's `test_predictions.csv`). The report holds, per model, the metrics
with 95% bootstrap intervals (resampling subjects when known), the paper's five
tests read correctly beside its p-values (Tables 6-7), the severity bands and,
with calibration predictions, split conformal intervals and their coverage; and
every paired comparison of models on the same videos.
"""

import os

import numpy as np
import pandas as pd

from depnet_tf import files
from depnet_tf.constants import PAPER_TEST_READINGS, PAPER_TESTS
from depnet_tf.errors import DataError
from depnet_tf.evaluation import conformal, statistics
from depnet_tf.evaluation.rendering import write_report

__all__ = ["build_report", "gather_inputs", "read_predictions", "write_report"]

REQUIRED = ("video_id", "label", "prediction")
GENERIC_NAMES = {"predictions", "test_predictions", "val_predictions"}


def read_predictions(path):
    """One model's per-video predictions, sorted by video_id; bad files are one-line errors."""
    path = os.fspath(path)
    if not files.isfile(path):
        raise DataError(f"{path}: no such predictions file")
    try:
        with files.open_file(path) as file:
            table = pd.read_csv(file, dtype={"video_id": str, "subject": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot parse the predictions CSV ({error})") from None
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise DataError(
            f"{path}: missing columns {missing}; `depnet evaluate` writes {list(REQUIRED)}"
        )
    if table.empty:
        raise DataError(f"{path}: no predictions")
    for column in ("label", "prediction"):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna())[0])
            raise DataError(
                f"{path}: row {row + 2}: {column} {table[column].iloc[row]!r} is not a number"
            )
        table[column] = values.astype(np.float64)
    return table.sort_values("video_id", kind="stable").reset_index(drop=True)


def gather_inputs(paths, names=None):
    """{model name: (predictions CSV path, DataFrame)} from CSVs and experiment folders."""
    found = []
    for path in map(os.fspath, paths):
        if files.isdir(path):
            cells = sorted(
                d
                for d in files.listdir(path)
                if files.isfile(os.path.join(path, d, "test_predictions.csv"))
            )
            if not cells:
                raise DataError(
                    f"{path}: neither a predictions CSV nor an experiment folder "
                    "(no <cell>/test_predictions.csv)"
                )
            found += [(cell, os.path.join(path, cell, "test_predictions.csv")) for cell in cells]
        else:
            stem = os.path.splitext(os.path.basename(path))[0]
            parent = os.path.basename(os.path.dirname(files.absolute(path)))
            found.append((parent if stem in GENERIC_NAMES and parent else stem, path))
    if names is not None:
        if len(names) != len(found):
            raise DataError(
                f"{len(names)} names for {len(found)} models: {[name for name, _ in found]}"
            )
        found = [(name, path) for name, (_, path) in zip(names, found)]
    duplicated = sorted({n for n, _ in found if [m for m, _ in found].count(n) > 1})
    if duplicated:
        raise DataError(f"two models are named {duplicated[0]!r}; name them with --names")
    return {name: (path, read_predictions(path)) for name, path in found}


def dataset_of_paths(paths):
    """ "avec2013"/"avec2014" when every input path names the same one, else None."""
    found = {name for path in paths for name in PAPER_TESTS if name in os.fspath(path).lower()}
    return found.pop() if len(found) == 1 else None


def model_report(table, calibration=None, resamples=statistics.RESAMPLES, seed=0):
    """The report entry of one model."""
    y, p = table["label"].to_numpy(), table["prediction"].to_numpy()
    groups = table["subject"].tolist() if "subject" in table else None
    entry = {
        "n": int(len(table)),
        "resampled": "subjects" if groups is not None else "videos",
        "metrics": statistics.metrics(y, p),
        "ci95": statistics.bootstrap_metrics(y, p, groups, resamples, seed),
        "paper_tests": statistics.paper_tests(y, p),
        "bands": statistics.bands(y, p),
    }
    if calibration is not None:
        record = conformal.calibrate(calibration["label"], calibration["prediction"])
        record["coverage"] = conformal.coverage(y, p, record["q"])
        record["description"] = conformal.describe(record)
        entry["conformal"] = record
    return entry


def build_report(models, calibrations=None, dataset=None, resamples=statistics.RESAMPLES, seed=0):
    """The whole report as a JSON-ready dict (see the module docstring and the README).

    Args:
        models: {name: per-video DataFrame}.
        calibrations: {name: dev-set per-video DataFrame} (optional, per model).
        dataset: "avec2013" or "avec2014": whose paper p-values to show (None: both).
    """
    calibrations = calibrations or {}
    groups = {}
    for table in models.values():
        if "subject" in table:
            groups.update(zip(table["video_id"], table["subject"]))
    datasets = [dataset] if dataset else list(PAPER_TESTS)
    return {
        "models": {
            name: model_report(table, calibrations.get(name), resamples, seed)
            for name, table in models.items()
        },
        "comparisons": statistics.compare(models, groups or None, resamples, seed),
        "paper": {
            d: {
                k: {"p_value": v, "reading": PAPER_TEST_READINGS[k]}
                for k, v in PAPER_TESTS[d].items()
            }
            for d in datasets
        },
        "settings": {
            "bootstrap": "percentile",
            "resamples": resamples,
            "seed": seed,
            "level": statistics.LEVEL,
            "significance": statistics.SIGNIFICANCE,
            "test_inputs": statistics.TEST_INPUTS,
        },
    }
