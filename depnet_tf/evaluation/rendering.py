"""The report's pages: tables.md, tables.tex, the figures and one self-contained index.html."""

import base64
import html
import json
import os

import numpy as np

from depnet_tf import files
from depnet_tf.constants import SEVERITY_NAMES
from depnet_tf.evaluation import figures, statistics
from depnet_tf.files import atomic_path


def _number(value, digits=2):
    return (
        "-"
        if value is None or (isinstance(value, float) and np.isnan(value))
        else f"{value:.{digits}f}"
    )


def _p(value):
    return "-" if value is None else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def markdown_tables(report):
    """tables.md: metrics with intervals, the paper's tests, comparisons, bands, intervals."""
    lines = [
        "# Report",
        "",
        "## Metrics (per video) with 95% bootstrap intervals",
        "",
        "| model | n | resampled | RMSE | MAE | Pearson r | CCC | R^2 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in report["models"].items():
        cells = [
            f"{_number(entry['metrics'][m])} [{_number(entry['ci95'][m][0])}, "
            f"{_number(entry['ci95'][m][1])}]"
            for m in statistics.METRICS
        ]
        lines.append(
            f"| {name} | {entry['n']} | {entry['resampled']} | " + " | ".join(cells) + " |"
        )
    paper = report["paper"]
    lines += ["", "## The paper's tests (section 5.3.3), read correctly", ""]
    header = "| model | test | statistic | p | reading |" + "".join(
        f" paper p ({d.upper()}) |" for d in paper
    )
    lines += [header, "|---|---|---|---|---|" + "---|" * len(paper)]
    for name, entry in report["models"].items():
        for key, test in entry["paper_tests"].items():
            row = (
                f"| {name} | {key} | {_number(test['statistic'], 3)} | {_p(test['p_value'])} "
                f"| {test['reading']} |"
            )
            row += "".join(f" {paper[d][key]['p_value']:.3f} |" for d in paper)
            lines.append(row)
    lines += [
        "",
        "Inputs: " + "; ".join(f"`{k}`: {v}" for k, v in report["settings"]["test_inputs"].items()),
        "",
    ]
    if report["comparisons"]:
        lines += [
            "## Model comparisons (paired, same videos)",
            "",
            "| a | b | n | Wilcoxon p | Holm p | RMSE a - b [95% CI] | MAE a - b [95% CI] |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in report["comparisons"]:
            lines.append(
                f"| {c['a']} | {c['b']} | {c['n']} | {_p(c['wilcoxon_p'])} | "
                f"{_p(c['wilcoxon_p_holm'])} | {c['delta_rmse']:.2f} "
                f"[{_number(c['delta_rmse_ci95'][0])}, {_number(c['delta_rmse_ci95'][1])}] | "
                f"{c['delta_mae']:.2f} [{_number(c['delta_mae_ci95'][0])}, "
                f"{_number(c['delta_mae_ci95'][1])}] |"
            )
        lines.append("")
    lines += ["## Severity bands (Table 1)", ""]
    for name, entry in report["models"].items():
        bands = entry["bands"]
        lines += [
            f"**{name}**: quadratic-weighted kappa {_number(bands['qwk'], 3)}; rows: "
            "true band, columns: predicted",
            "",
            "| true \\ predicted | " + " | ".join(SEVERITY_NAMES) + " | MAE |",
            "|---|" + "---|" * (len(SEVERITY_NAMES) + 1),
        ]
        for band, row in zip(SEVERITY_NAMES, bands["confusion"]):
            lines.append(
                f"| {band} | "
                + " | ".join(map(str, row))
                + f" | {_number(bands['mae_per_band'][band])} |"
            )
        lines.append("")
    calibrated = {n: e["conformal"] for n, e in report["models"].items() if "conformal" in e}
    if calibrated:
        lines += [
            "## Prediction intervals (split conformal)",
            "",
            "| model | alpha | calibration n | q | test coverage |",
            "|---|---|---|---|---|",
        ]
        for name, record in calibrated.items():
            q = "unbounded" if record["q"] is None else f"{record['q']:.2f}"
            lines.append(
                f"| {name} | {record['alpha']} | {record['n']} | {q} | {record['coverage']:.3f} |"
            )
        lines.append("")
    return "\n".join(lines)


def latex_tables(report):
    """tables.tex: the metrics and the paper's tests as LaTeX tabulars."""

    def tex(text):
        return str(text).replace("_", r"\_").replace("%", r"\%").replace("^", r"\^{}")

    lines = [
        r"\begin{tabular}{lrrrrr}",
        r"\hline",
        r"model & RMSE & MAE & Pearson $r$ & CCC & $R^2$ \\",
        r"\hline",
    ]
    for name, entry in report["models"].items():
        cells = [
            f"{_number(entry['metrics'][m])} [{_number(entry['ci95'][m][0])}, "
            f"{_number(entry['ci95'][m][1])}]"
            for m in statistics.METRICS
        ]
        lines.append(tex(name) + " & " + " & ".join(cells) + r" \\")
    lines += [
        r"\hline",
        r"\end{tabular}",
        "",
        r"\begin{tabular}{llrr}",
        r"\hline",
        r"model & test & statistic & $p$ \\",
        r"\hline",
    ]
    for name, entry in report["models"].items():
        for key, test in entry["paper_tests"].items():
            lines.append(
                f"{tex(name)} & {tex(key)} & {_number(test['statistic'], 3)} & "
                f"{tex(_p(test['p_value']))} " + r"\\"
            )
    lines += [r"\hline", r"\end{tabular}", ""]
    return "\n".join(lines)


def write_figures(models, report, out_dir, histories=None, baseline=None):
    """Every figure as PNG and PDF in `out_dir/figures/`; returns {title: PNG path}."""
    folder = os.path.join(out_dir, "figures")
    made = {
        "Predicted vs true": figures.predicted_vs_true(models, baseline),
        "Bland-Altman": figures.bland_altman(models),
        "Absolute error by severity band": figures.error_by_band(models),
        "RMSE and MAE with 95% intervals": figures.metric_bars(report["models"]),
    }
    for name, history in (histories or {}).items():
        made[f"Training curves: {name}"] = figures.training_curves(history)
    paths = {}
    for index, (title, figure) in enumerate(made.items()):
        stem = f"{index:02d}-" + "".join(c if c.isalnum() else "-" for c in title.lower())
        paths[title] = figures.save_figure(figure, os.path.join(folder, stem))
    return paths


def html_page(report, tables_markdown, figure_paths):
    """index.html: one self-contained page (images embedded, no network)."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>depnet_tf report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
        "padding:3px 6px;font-size:13px}img{max-width:100%;margin:1em 0}</style></head>"
        "<body><h1>depnet_tf report</h1>",
    ]
    parts.append(
        "<h2>Models</h2><table><tr><th>model</th><th>n</th><th>RMSE</th><th>MAE</th>"
        "<th>Pearson r</th><th>CCC</th><th>R^2</th></tr>"
    )
    for name, entry in report["models"].items():
        cells = "".join(
            f"<td>{_number(entry['metrics'][m])} [{_number(entry['ci95'][m][0])}, "
            f"{_number(entry['ci95'][m][1])}]</td>"
            for m in statistics.METRICS
        )
        parts.append(f"<tr><td>{html.escape(name)}</td><td>{entry['n']}</td>{cells}</tr>")
    parts.append("</table>")
    for title, path in figure_paths.items():
        with files.open_file(path) as file:
            data = base64.b64encode(file.read()).decode()
        parts.append(
            f"<h2>{html.escape(title)}</h2>"
            f"<img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>"
        )
    parts.append("<h2>All tables</h2><pre>" + html.escape(tables_markdown) + "</pre>")
    parts.append("</body></html>")
    return "".join(parts)


def write_report(report, models, out_dir, histories=None, baseline=None, pictures=None):
    """report.json, tables.md, tables.tex, figures/ (PNG and PDF) and index.html.

    Args:
        histories: {model name: its run's history.csv DataFrame}, for training curves.
        baseline: the training-set mean label, drawn as the constant predictor.
        pictures: {title: PNG path} shown on the page too (e.g. `depnet explain` grids).
    """
    files.makedirs(out_dir)
    figure_paths = write_figures(models, report, out_dir, histories, baseline)
    figure_paths.update(pictures or {})
    tables = markdown_tables(report)
    outputs = {
        "report.json": json.dumps(report, indent=2, default=float, allow_nan=True),
        "tables.md": tables,
        "tables.tex": latex_tables(report),
        "index.html": html_page(report, tables, figure_paths),
    }
    for name, text in outputs.items():
        with atomic_path(os.path.join(out_dir, name)) as temporary:
            with open(temporary, "w") as file:
                file.write(text)
    return {name: os.path.join(out_dir, name) for name in outputs}
