"""Every number of the statistics against a direct computation with scipy, statsmodels and NumPy."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.stattools import adfuller

from depnet_tf.evaluation import statistics
from depnet_tf.severity import severity_band

Y = np.array([3, 8, 12, 15, 17, 21, 25, 27, 30, 34, 41, 47], float)
P = np.array([6, 7, 15, 13, 20, 19, 22, 30, 26, 38, 35, 44], float)
SUBJECTS = ["a", "a", "b", "c", "c", "c", "d", "e", "e", "f", "g", "g"]


def test_metrics_by_hand():
    result = statistics.metrics(Y, P)
    errors = P - Y
    assert result["rmse"] == pytest.approx(math.sqrt(np.mean(errors**2)))
    assert result["mae"] == pytest.approx(np.mean(np.abs(errors)))
    assert result["pearson_r"] == pytest.approx(np.corrcoef(Y, P)[0, 1])
    ccc = 2 * np.cov(Y, P, ddof=0)[0, 1] / (Y.var() + P.var() + (Y.mean() - P.mean()) ** 2)
    assert result["ccc"] == pytest.approx(ccc)
    assert result["r2"] == pytest.approx(1 - np.sum(errors**2) / np.sum((Y - Y.mean()) ** 2))


def numpy_bootstrap(y, p, groups, resamples, seed):
    """The documented procedure, written out: whole groups drawn with replacement."""
    order = list(dict.fromkeys(groups))
    members = [np.flatnonzero(np.asarray(groups) == g) for g in order]
    rng = np.random.default_rng(seed)
    rmse = []
    for _ in range(resamples):
        rows = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
        rmse.append(math.sqrt(np.mean((p[rows] - y[rows]) ** 2)))
    return list(np.percentile(rmse, [2.5, 97.5]))


@pytest.mark.parametrize("groups", [None, SUBJECTS])
def test_bootstrap_intervals_match_numpy(groups):
    result = statistics.bootstrap_metrics(Y, P, groups, resamples=2000, seed=7)
    expected = numpy_bootstrap(Y, P, groups or list(range(len(Y))), 2000, 7)
    assert result["rmse"] == pytest.approx(expected)
    low, high = result["mae"]
    assert low < statistics.metrics(Y, P)["mae"] < high


def test_paper_tests_are_scipy_and_statsmodels_calls():
    tests = statistics.paper_tests(Y, P)
    assert tests["shapiro_wilk"]["p_value"] == pytest.approx(stats.shapiro(P).pvalue)
    assert tests["dickey_fuller"]["statistic"] == pytest.approx(adfuller(P)[0])
    assert tests["dickey_fuller"]["p_value"] == pytest.approx(adfuller(P)[1])
    assert tests["anova"]["p_value"] == pytest.approx(stats.f_oneway(P, Y).pvalue)
    counts = np.array([np.bincount(severity_band(v), minlength=4) for v in (P, Y)])
    counts = counts[:, counts.sum(axis=0) > 0]
    assert tests["chi_squared"]["statistic"] == pytest.approx(
        stats.chi2_contingency(counts).statistic
    )
    whitney = stats.mannwhitneyu(P, Y, alternative="two-sided")
    assert tests["mann_whitney_u"]["p_value"] == pytest.approx(whitney.pvalue)
    # A large ANOVA p is read as "no evidence", never as "different distributions".
    assert tests["anova"]["p_value"] > 0.05
    assert tests["anova"]["reading"].startswith("No evidence")
    assert all(test["inputs"] for test in tests.values())


def test_chi_squared_of_one_band_is_not_computable():
    tests = statistics.paper_tests([1, 2, 3, 4], [2, 3, 4, 5])
    assert tests["chi_squared"]["p_value"] is None
    assert "one severity band" in tests["chi_squared"]["reading"]


def test_comparisons_wilcoxon_holm_and_paired_bootstrap():
    rng = np.random.default_rng(0)
    models = {
        name: pd.DataFrame(
            {
                "video_id": [f"v{i:02d}" for i in range(12)],
                "label": Y,
                "prediction": Y + rng.normal(0, noise, 12),
            }
        )
        for name, noise in (("a", 2), ("b", 5), ("c", 8))
    }
    rows = statistics.compare(models, resamples=1000, seed=3)
    assert [(r["a"], r["b"]) for r in rows] == [("a", "b"), ("a", "c"), ("b", "c")]
    raw = []
    for row in rows:
        ya = models[row["a"]]
        yb = models[row["b"]]
        error_a = np.abs(ya["prediction"] - ya["label"])
        error_b = np.abs(yb["prediction"] - yb["label"])
        raw.append(stats.wilcoxon(error_a, error_b).pvalue)
        assert row["wilcoxon_p"] == pytest.approx(raw[-1])
        rmse = [math.sqrt(np.mean((t["prediction"] - t["label"]) ** 2)) for t in (ya, yb)]
        assert row["delta_rmse"] == pytest.approx(rmse[0] - rmse[1])
        assert row["delta_rmse_ci95"][0] <= row["delta_rmse"] <= row["delta_rmse_ci95"][1]
    holm = multipletests(raw, method="holm")[1]
    assert [r["wilcoxon_p_holm"] for r in rows] == pytest.approx(list(holm))


def test_bands_confusion_mae_and_qwk():
    result = statistics.bands(Y, P)
    true, predicted = severity_band(Y), severity_band(P)
    confusion = np.zeros((4, 4), int)
    for t, p in zip(true, predicted):
        confusion[t, p] += 1
    assert result["confusion"] == confusion.tolist()
    assert result["qwk"] == pytest.approx(cohens_kappa(confusion, wt="quadratic").kappa)
    mild = true == 1
    assert result["mae_per_band"]["mild"] == pytest.approx(np.mean(np.abs(P - Y)[mild]))
