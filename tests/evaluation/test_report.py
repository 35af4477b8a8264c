"""`depnet report` as a process: every file, the report.json schema, and the page in Chromium."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from depnet_tf.evaluation import conformal, statistics
from depnet_tf.evaluation.report import build_report
from tests.cli.process import depnet, one_error_line


def write_predictions(folder, seed=0):
    """Two models' test predictions (subjects with two videos each) and their dev sets."""
    rng = np.random.default_rng(seed)
    labels = np.round(rng.uniform(0, 50, 40))
    paths = {}
    for name, noise in (("depnet", 5.0), ("baseline", 9.0)):
        test = pd.DataFrame(
            {
                "video_id": [
                    f"{i // 2:02d}_1_{'Freeform' if i % 2 else 'Northwind'}" for i in range(40)
                ],
                "label": labels,
                "prediction": np.clip(labels + rng.normal(0, noise, 40), 0, 63),
                "subject": [f"{i // 2:02d}" for i in range(40)],
            }
        )
        dev_labels = np.round(rng.uniform(0, 50, 20))
        dev = pd.DataFrame(
            {
                "video_id": [f"d{i}" for i in range(20)],
                "label": dev_labels,
                "prediction": dev_labels + rng.normal(0, noise, 20),
            }
        )
        paths[name] = (folder / f"{name}.csv", folder / f"{name}_dev.csv")
        test.to_csv(paths[name][0], index=False)
        dev.to_csv(paths[name][1], index=False)
    return paths


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    paths = write_predictions(folder)
    out = folder / "out"
    result = depnet(
        "report",
        paths["depnet"][0],
        paths["baseline"][0],
        "--out",
        out,
        "--calibration",
        paths["depnet"][1],
        paths["baseline"][1],
        "--resamples",
        1000,
        "--dataset",
        "avec2014",
    )
    assert result.returncode == 0, result.stderr
    return folder, paths, out, result


def test_every_output_is_written(written):
    _, _, out, result = written
    for name in ("report.json", "tables.md", "tables.tex", "index.html"):
        assert (out / name).stat().st_size > 0
    figures = sorted(os.listdir(out / "figures"))
    assert len([f for f in figures if f.endswith(".png")]) == 4
    assert len([f for f in figures if f.endswith(".pdf")]) == 4
    assert "depnet: RMSE" in result.stdout and "resampling subjects" in result.stdout


def test_report_json_schema_and_numbers(written):
    _, paths, out, _ = written
    report = json.loads((out / "report.json").read_text())
    assert set(report["models"]) == {"depnet", "baseline"}
    entry = report["models"]["depnet"]
    assert set(entry["metrics"]) == set(entry["ci95"]) == set(statistics.METRICS)
    assert set(entry["paper_tests"]) == {
        "shapiro_wilk",
        "dickey_fuller",
        "anova",
        "chi_squared",
        "mann_whitney_u",
    }
    for test in entry["paper_tests"].values():
        assert {"statistic", "p_value", "reading"} <= set(test)
    assert set(entry["bands"]) >= {"confusion", "mae_per_band", "qwk"}
    assert set(entry["conformal"]) >= {"alpha", "q", "coverage"}
    (comparison,) = report["comparisons"]
    assert set(comparison) == {
        "a",
        "b",
        "n",
        "wilcoxon_p",
        "wilcoxon_p_holm",
        "delta_rmse",
        "delta_rmse_ci95",
        "delta_mae",
        "delta_mae_ci95",
    }
    assert report["paper"]["avec2014"]["anova"]["p_value"] == 1.0

    test = pd.read_csv(paths["depnet"][0], dtype={"subject": str}).sort_values("video_id")
    dev = pd.read_csv(paths["depnet"][1])
    y, p = test["label"].to_numpy(), test["prediction"].to_numpy()
    assert entry["metrics"] == pytest.approx(statistics.metrics(y, p), nan_ok=True)
    assert entry["ci95"]["rmse"] == pytest.approx(
        statistics.bootstrap_metrics(y, p, test["subject"].tolist(), 1000, 0)["rmse"]
    )
    q = conformal.conformal_quantile(dev["label"] - dev["prediction"], 0.1)
    assert entry["conformal"]["q"] == pytest.approx(q)
    inside = np.abs(y - p) <= q
    assert entry["conformal"]["coverage"] == pytest.approx(inside.mean())


def test_in_process_report_equals_the_commands(written):
    _, paths, out, _ = written
    models = {
        name: pd.read_csv(paths[name][0], dtype={"subject": str})
        .sort_values("video_id")
        .reset_index(drop=True)
        for name in ("depnet", "baseline")
    }
    direct = build_report(models, None, "avec2014", resamples=1000, seed=0)
    on_disk = json.loads((out / "report.json").read_text())
    for name in models:
        for metric, bounds in direct["models"][name]["ci95"].items():
            assert on_disk["models"][name]["ci95"][metric] == pytest.approx(bounds)


def test_bad_inputs_are_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("video_id,label\nv,3\n")
    line = one_error_line(depnet("report", bad, "--out", tmp_path / "o"), "report")
    assert str(bad) in line and "missing columns ['prediction']" in line


@pytest.mark.large
def test_the_page_in_headless_chromium(written):
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
        )
    from selenium import webdriver
    from selenium.webdriver.common.by import By

    folder, _, out, _ = written
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={folder / 'profile'}",
        "--window-size=1200,2000",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(driver_path))
    try:
        browser.get((out / "index.html").as_uri())
        widths = browser.execute_script(
            "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)"
        )
        text = browser.find_element(By.TAG_NAME, "body").text
        assert browser.save_screenshot(str(out / "screenshot.png"))
    finally:
        browser.quit()
    assert len(widths) == 4 and all(width > 0 for width in widths)
    report = json.loads((out / "report.json").read_text())
    for entry in report["models"].values():
        assert f"{entry['metrics']['rmse']:.2f}" in text
