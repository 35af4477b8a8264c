"""`depnet report` as a process: every file, the report.json schema, and the page in Chromium."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from depnet_tf.evaluation import conformal, statistics
from depnet_tf.evaluation.report import build_report
from tests.browser import open_browser
from tests.cli.process import depnet, one_error_line
from tests.conftest import artifact


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


@pytest.fixture(scope="module")
def with_history(tmp_path_factory):
    """A report with training curves: a history.csv beside the predictions (as a run folder
    holds), whose validation columns hold no values."""
    folder = tmp_path_factory.mktemp("report-history")
    paths = write_predictions(folder)
    pd.DataFrame(
        {
            "epoch": [0, 1, 2],
            "loss": [300.0, 200.0, 150.0],
            "rmse": [24.0, 20.0, 17.0],
            "val_rmse": [np.nan] * 3,
            "val_mae": [np.nan] * 3,
        }
    ).to_csv(folder / "history.csv", index=False)
    out = folder / "out"
    result = depnet(
        "report", paths["depnet"][0], paths["baseline"][0], "--out", out,
        "--calibration", paths["depnet"][1], paths["baseline"][1], "--resamples", 200,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder, out


PAGE_FACTS = """
const links = Array.from(document.querySelectorAll("nav a"));
return {
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  tables: document.querySelectorAll("table").length,
  captions: Array.from(document.querySelectorAll("table")).filter(t => t.caption).length,
  pre: document.querySelectorAll("pre").length,
  pipeRows: Array.from(document.querySelectorAll("body *")).filter(
      e => e.children.length === 0 && /^\\|.*\\|$/.test(e.textContent.trim())).length,
  images: Array.from(document.images).map(i => ({
      loaded: i.complete && i.naturalWidth > 0, alt: i.alt,
      captioned: !!(i.closest("figure") && i.closest("figure").querySelector("figcaption")),
      right: i.getBoundingClientRect().right})),
  links: links.map(a => ({href: a.getAttribute("href"),
      target: !!document.getElementById(a.getAttribute("href").slice(1))})),
};
"""


@pytest.mark.large
@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_in_headless_chromium(with_history, width):
    """Real Chromium, desktop and phone widths: HTML tables, a working contents list, every
    figure loaded with alt text and a caption, and nothing wider than the window."""
    from selenium.webdriver.common.by import By

    folder, out = with_history
    browser = open_browser(folder / f"profile-{width}", width)
    try:
        browser.get((out / "index.html").as_uri())
        facts = browser.execute_script(PAGE_FACTS)
        text = browser.find_element(By.TAG_NAME, "body").text
        assert browser.save_screenshot(str(artifact(f"report-{width}px.png")))
    finally:
        browser.quit()
    report = json.loads((out / "report.json").read_text())
    # metrics, the paper's tests, one comparison, two severity tables, intervals
    assert facts["tables"] == 6 and facts["captions"] == 6
    assert facts["pre"] == 0 and facts["pipeRows"] == 0  # no Markdown source on the page
    assert facts["innerWidth"] == width
    assert facts["scrollWidth"] <= facts["innerWidth"], facts
    assert len(facts["images"]) == 6  # four figures, two training-curve figures
    for image in facts["images"]:
        assert image["loaded"] and image["alt"] and image["captioned"], image
        assert image["right"] <= facts["innerWidth"]
    assert len(facts["links"]) == 12 and all(link["target"] for link in facts["links"])
    for entry in report["models"].values():
        assert f"{entry['metrics']['rmse']:.2f}" in text


def test_training_curves_draw_only_columns_with_values_on_whole_epochs():
    from depnet_tf.evaluation.figures import training_curves

    history = pd.DataFrame(
        {
            "epoch": [0, 1, 2],
            "loss": [3.0, 2.0, 1.5],
            "val_rmse": [np.nan] * 3,
            "val_mae": ["NA"] * 3,
        }
    )
    figure = training_curves(history)
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["loss"]
    figure.canvas.draw()
    ticks = [t for t in axes.get_xticks() if axes.get_xlim()[0] <= t <= axes.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
