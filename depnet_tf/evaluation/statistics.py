"""Statistics of per-video predictions: metrics with bootstrap intervals, the paper's five tests
(section 5.3.3, Tables 6-7) read correctly, paired model comparisons, and severity bands.

Every test is computed by scipy or statsmodels, never re-derived; each result
names its exact inputs. `y` are the labels and `p` the predictions of one
model, one per video, in `video_id` order.
"""

import math
import warnings

import numpy as np
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.stattools import adfuller

from depnet_tf.constants import SEVERITY_NAMES
from depnet_tf.evaluation.conventions import rmse_mae
from depnet_tf.severity import severity_band

METRICS = ("rmse", "mae", "pearson_r", "ccc", "r2")
RESAMPLES = 10_000
LEVEL = 0.95
SIGNIFICANCE = 0.05


def metrics(y, p):
    """RMSE and MAE (paper, eqs. 7 and 6), Pearson r, Lin's concordance (CCC) and R^2.

    CCC = 2 cov(y, p) / (var(y) + var(p) + (mean(y) - mean(p))^2), population
    moments; R^2 = 1 - sum((y - p)^2) / sum((y - mean(y))^2). Undefined values
    (a constant input) are NaN.
    """
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    rmse, mae = rmse_mae(y, p)
    constant = np.ptp(y) == 0 or np.ptp(p) == 0
    pearson = math.nan if constant else float(stats.pearsonr(y, p).statistic)
    covariance = np.mean((y - y.mean()) * (p - p.mean()))
    denominator = y.var() + p.var() + (y.mean() - p.mean()) ** 2
    ccc = float(2 * covariance / denominator) if denominator > 0 else math.nan
    total = np.sum((y - y.mean()) ** 2)
    r2 = float(1 - np.sum((y - p) ** 2) / total) if total > 0 else math.nan
    return {"rmse": rmse, "mae": mae, "pearson_r": pearson, "ccc": ccc, "r2": r2}


def resample_indices(n, groups=None, resamples=RESAMPLES, seed=0):
    """Row indices of each bootstrap resample, drawing whole groups (subjects) with replacement.

    With `groups` None every one of the `n` rows is its own group. Resample b
    draws `rng.integers(0, G, G)` group positions (G groups, numbered in order of
    first appearance) from one `rng = np.random.default_rng(seed)`, and takes
    every row of each drawn group, in that order.
    """
    labels = list(range(n)) if groups is None else list(groups)
    positions = {}
    for row, label in enumerate(labels):
        positions.setdefault(label, []).append(row)
    members = [np.asarray(rows) for rows in positions.values()]
    rng = np.random.default_rng(seed)
    for _ in range(resamples):
        drawn = rng.integers(0, len(members), len(members))
        yield np.concatenate([members[g] for g in drawn])


def percentile_interval(values, level=LEVEL):
    """The percentile-method interval of bootstrap values, ignoring undefined (NaN) ones."""
    values = np.asarray(values, np.float64)
    tail = 100 * (1 - level) / 2
    if np.all(np.isnan(values)):
        return [math.nan, math.nan]
    return [float(v) for v in np.nanpercentile(values, [tail, 100 - tail])]


def bootstrap_metrics(y, p, groups=None, resamples=RESAMPLES, seed=0):
    """95% percentile bootstrap intervals of every metric, resampling `groups` (subjects)."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    draws = {name: [] for name in METRICS}
    for rows in resample_indices(len(y), groups, resamples, seed):
        for name, value in metrics(y[rows], p[rows]).items():
            draws[name].append(value)
    return {name: percentile_interval(values) for name, values in draws.items()}


# --- The paper's tests (section 5.3.3, Tables 6-7) ---------------------------------

TEST_INPUTS = {
    "shapiro_wilk": "scipy.stats.shapiro(p)",
    "dickey_fuller": "statsmodels.tsa.stattools.adfuller(p) in video_id order, default arguments",
    "anova": "scipy.stats.f_oneway(p, y)",
    "chi_squared": "scipy.stats.chi2_contingency of the 2 x K Table 1 band counts of p and y "
    "(bands empty in both dropped)",
    "mann_whitney_u": "scipy.stats.mannwhitneyu(p, y, alternative='two-sided')",
}


def _reading(test, p_value):
    significant = p_value < SIGNIFICANCE
    readings = {
        "shapiro_wilk": (
            "The predictions depart from a normal distribution (p < 0.05).",
            "No evidence against normality of the predictions (p >= 0.05); "
            "this does not show that they are normal.",
        ),
        "dickey_fuller": (
            "The unit-root null is rejected (p < 0.05): in video_id order the predictions "
            "behave as a stationary series (the order carries no time, so this says little).",
            "The unit-root null is not rejected (p >= 0.05): no evidence that the predictions "
            "in video_id order are stationary.",
        ),
        "anova": (
            "The mean prediction differs from the mean label (p < 0.05).",
            "No evidence that the mean prediction differs from the mean label (p >= 0.05); "
            "a large p is not evidence that the distributions differ.",
        ),
        "chi_squared": (
            "The severity-band distributions of predictions and labels differ (p < 0.05).",
            "No evidence that the band distributions of predictions and labels differ "
            "(p >= 0.05); a large p is not evidence of dependence.",
        ),
        "mann_whitney_u": (
            "Predictions tend to be larger or smaller than the labels (p < 0.05).",
            "No evidence that predictions are stochastically larger or smaller than the "
            "labels (p >= 0.05).",
        ),
    }
    return readings[test][0 if significant else 1]


def band_counts(y, p):
    """The 2 x K table of Table 1 band counts (row 0: predictions, row 1: labels), empty
    bands dropped, and the names of the bands kept."""
    counts = np.array(
        [np.bincount(severity_band(values), minlength=len(SEVERITY_NAMES)) for values in (p, y)]
    )
    kept = counts.sum(axis=0) > 0
    return counts[:, kept], [n for n, k in zip(SEVERITY_NAMES, kept) if k]


def paper_tests(y, p):
    """The paper's five tests on one model's per-video predictions (rows in video_id order).

    Returns:
        {key: {"statistic", "p_value", "reading", "inputs"}}; a test that the data
        cannot support (e.g. a chi-squared table of one band) has None values
        and says why.
    """
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    results = {}

    def record(key, compute):
        try:
            statistic, p_value = compute()
        except ValueError as error:
            results[key] = {
                "statistic": None,
                "p_value": None,
                "inputs": TEST_INPUTS[key],
                "reading": f"Not computable on these data ({error}).",
            }
            return
        statistic, p_value = float(statistic), float(p_value)
        results[key] = {
            "statistic": statistic,
            "p_value": p_value,
            "inputs": TEST_INPUTS[key],
            "reading": _reading(key, p_value),
        }

    def shapiro():
        result = stats.shapiro(p)
        return result.statistic, result.pvalue

    def dickey_fuller():
        with warnings.catch_warnings():  # statsmodels 0.15 announces a new return type
            warnings.simplefilter("ignore", FutureWarning)
            return adfuller(p)[:2]

    def anova():
        result = stats.f_oneway(p, y)
        return result.statistic, result.pvalue

    def chi_squared():
        table, _ = band_counts(y, p)
        if table.shape[1] < 2:
            raise ValueError("all predictions and labels fall in one severity band")
        result = stats.chi2_contingency(table)
        return result.statistic, result.pvalue

    def mann_whitney():
        result = stats.mannwhitneyu(p, y, alternative="two-sided")
        return result.statistic, result.pvalue

    for key, compute in (
        ("shapiro_wilk", shapiro),
        ("dickey_fuller", dickey_fuller),
        ("anova", anova),
        ("chi_squared", chi_squared),
        ("mann_whitney_u", mann_whitney),
    ):
        record(key, compute)
    return results


# --- Model comparisons (what the paper did not run) ----------------------------------


def compare(models, groups=None, resamples=RESAMPLES, seed=0):
    """Every pair of models scored on the same videos, with Holm-adjusted Wilcoxon p-values.

    Args:
        models: {name: DataFrame with video_id, label, prediction}.
        groups: {video_id: subject}, for the paired bootstrap (None: videos).

    Returns:
        A list of {a, b, n, wilcoxon_p, wilcoxon_p_holm, delta_rmse, delta_rmse_ci95,
        delta_mae, delta_mae_ci95}: Wilcoxon signed-rank on the per-video absolute
        errors (scipy.stats.wilcoxon), deltas as a minus b, paired percentile
        bootstrap intervals (both models on the same resampled subjects).
    """
    names = list(models)
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            merged = models[a].merge(models[b], on="video_id", suffixes=("_a", "_b"))
            if len(merged) < 2:
                continue
            merged = merged.sort_values("video_id")
            y = merged["label_a"].to_numpy(np.float64)
            pa, pb = (merged[f"prediction_{s}"].to_numpy(np.float64) for s in "ab")
            error_a, error_b = np.abs(pa - y), np.abs(pb - y)
            if np.all(error_a == error_b):
                wilcoxon_p = 1.0
            else:
                wilcoxon_p = float(stats.wilcoxon(error_a, error_b).pvalue)
            subjects = None if groups is None else [groups.get(v, v) for v in merged["video_id"]]
            deltas = {"rmse": [], "mae": []}
            for index in resample_indices(len(y), subjects, resamples, seed):
                rmse_a, mae_a = rmse_mae(y[index], pa[index])
                rmse_b, mae_b = rmse_mae(y[index], pb[index])
                deltas["rmse"].append(rmse_a - rmse_b)
                deltas["mae"].append(mae_a - mae_b)
            (rmse_a, mae_a), (rmse_b, mae_b) = rmse_mae(y, pa), rmse_mae(y, pb)
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "n": len(merged),
                    "wilcoxon_p": wilcoxon_p,
                    "delta_rmse": rmse_a - rmse_b,
                    "delta_rmse_ci95": percentile_interval(deltas["rmse"]),
                    "delta_mae": mae_a - mae_b,
                    "delta_mae_ci95": percentile_interval(deltas["mae"]),
                }
            )
    if rows:
        adjusted = multipletests([r["wilcoxon_p"] for r in rows], method="holm")[1]
        for row, value in zip(rows, adjusted):
            row["wilcoxon_p_holm"] = float(value)
    return rows


# --- Severity bands (Table 1) ---------------------------------------------------------


def bands(y, p):
    """Confusion matrix (rows: true band, columns: predicted), per-band MAE and QWK.

    The quadratic-weighted kappa is statsmodels' `cohens_kappa(table, wt="quadratic")`.
    """
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    true, predicted = severity_band(y), severity_band(p)
    size = len(SEVERITY_NAMES)
    confusion = np.zeros((size, size), np.int64)
    np.add.at(confusion, (true, predicted), 1)
    mae = {}
    for band, name in enumerate(SEVERITY_NAMES):
        chosen = true == band
        mae[name] = float(np.mean(np.abs(p[chosen] - y[chosen]))) if chosen.any() else None
    kappa = (
        cohens_kappa(confusion, wt="quadratic", return_results=False)
        if confusion.sum()
        else math.nan
    )
    return {
        "names": list(SEVERITY_NAMES),
        "confusion": confusion.tolist(),
        "mae_per_band": mae,
        "qwk": float(kappa),
    }
