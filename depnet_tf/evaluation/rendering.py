"""The report's pages: tables.md, tables.tex, the figures and one self-contained index.html."""

import base64
import dataclasses
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


def _slug(text):
    """`text` lower-cased, every character but letters and digits a `-`: file names, anchors."""
    return "".join(c if c.isalnum() else "-" for c in text.lower())


def _p(value):
    return "-" if value is None else ("< 0.001" if value < 0.001 else f"{value:.3f}")


@dataclasses.dataclass
class Table:
    """One table of the report, as text cells: `tables.md` and `index.html` both render it."""

    title: str
    caption: str
    header: list
    rows: list
    notes: str = ""

    @property
    def anchor(self):
        return _slug(self.title).strip("-")


def _interval(entry, metric):
    low, high = entry["ci95"][metric]
    return f"{_number(entry['metrics'][metric])} [{_number(low)}, {_number(high)}]"


def report_tables(report):
    """The report's tables, in order: metrics, the paper's tests, comparisons, bands, intervals."""
    models = report["models"]
    tables = [
        Table(
            "Metrics (per video) with 95% bootstrap intervals",
            "Each model's scores on its videos; intervals resample subjects.",
            ["model", "n", "resampled", "RMSE", "MAE", "Pearson r", "CCC", "R^2"],
            [
                [name, str(e["n"]), str(e["resampled"])]
                + [_interval(e, m) for m in statistics.METRICS]
                for name, e in models.items()
            ],
        )
    ]
    paper = report["paper"]
    tables.append(
        Table(
            "The paper's tests (section 5.3.3), read correctly",
            "Each test on our predictions, its correct reading, and the paper's p-values.",
            ["model", "test", "statistic", "p", "reading"]
            + [f"paper p ({d.upper()})" for d in paper],
            [
                [name, key, _number(test["statistic"], 3), _p(test["p_value"]), test["reading"]]
                + [f"{paper[d][key]['p_value']:.3f}" for d in paper]
                for name, entry in models.items()
                for key, test in entry["paper_tests"].items()
            ],
            "Inputs: "
            + "; ".join(f"{k}: {v}" for k, v in report["settings"]["test_inputs"].items()),
        )
    )
    if report["comparisons"]:
        tables.append(
            Table(
                "Model comparisons (paired, same videos)",
                "Wilcoxon signed-rank tests of the absolute errors, Holm-adjusted, and the "
                "differences in RMSE and MAE with 95% bootstrap intervals.",
                [
                    "a",
                    "b",
                    "n",
                    "Wilcoxon p",
                    "Holm p",
                    "RMSE a - b [95% CI]",
                    "MAE a - b [95% CI]",
                ],
                [
                    [
                        c["a"],
                        c["b"],
                        str(c["n"]),
                        _p(c["wilcoxon_p"]),
                        _p(c["wilcoxon_p_holm"]),
                        f"{c['delta_rmse']:.2f} [{_number(c['delta_rmse_ci95'][0])}, "
                        f"{_number(c['delta_rmse_ci95'][1])}]",
                        f"{c['delta_mae']:.2f} [{_number(c['delta_mae_ci95'][0])}, "
                        f"{_number(c['delta_mae_ci95'][1])}]",
                    ]
                    for c in report["comparisons"]
                ],
            )
        )
    for name, entry in models.items():
        bands = entry["bands"]
        tables.append(
            Table(
                f"Severity bands (Table 1): {name}",
                f"Quadratic-weighted kappa {_number(bands['qwk'], 3)}; rows: true band, "
                "columns: predicted band.",
                ["true \\ predicted", *SEVERITY_NAMES, "MAE"],
                [
                    [band, *map(str, row), _number(bands["mae_per_band"][band])]
                    for band, row in zip(SEVERITY_NAMES, bands["confusion"])
                ],
            )
        )
    calibrated = {n: e["conformal"] for n, e in models.items() if "conformal" in e}
    if calibrated:
        tables.append(
            Table(
                "Prediction intervals (split conformal)",
                "Score +- q covers a new video's true score with probability at least 1 - alpha "
                "(on average over videos: split conformal's guarantee).",
                ["model", "alpha", "calibration n", "q", "test coverage"],
                [
                    [
                        name,
                        str(r["alpha"]),
                        str(r["n"]),
                        "unbounded" if r["q"] is None else f"{r['q']:.2f}",
                        f"{r['coverage']:.3f}",
                    ]
                    for name, r in calibrated.items()
                ],
            )
        )
    return tables


def markdown_tables(report):
    """tables.md: every table of `report_tables` as a Markdown table."""
    lines = ["# Report", ""]
    for table in report_tables(report):
        lines += [f"## {table.title}", "", table.caption, ""]
        lines.append("| " + " | ".join(table.header) + " |")
        lines.append("|" + "---|" * len(table.header))
        lines += ["| " + " | ".join(row) + " |" for row in table.rows]
        lines += ["", table.notes, ""] if table.notes else [""]
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
        stem = f"{index:02d}-" + _slug(title)
        paths[title] = figures.save_figure(figure, os.path.join(folder, stem))
    return paths


# The page fits any width: the body never exceeds the window, wide tables scroll
# inside their own box, images shrink, and long words (file names, ids) wrap.
_STYLE = (
    "*{box-sizing:border-box}"
    "body{font-family:sans-serif;margin:0 auto;padding:1em;max-width:1100px;"
    "overflow-wrap:anywhere;line-height:1.4}"
    ".table-box{overflow-x:auto;max-width:100%;margin:0.5em 0 1.5em}"
    "table{border-collapse:collapse}caption{text-align:left;font-size:13px;padding:4px 0}"
    "td,th{border:1px solid #bbb;padding:3px 6px;font-size:13px;overflow-wrap:normal}"
    "th{background:#f2f2f2}figure{margin:1em 0}img{max-width:100%;height:auto}"
    "figcaption{font-size:13px;color:#444}nav li{margin:2px 0}"
)


def _html_table(table):
    head = "".join(f"<th scope='col'>{html.escape(cell)}</th>" for cell in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in table.rows
    )
    notes = f"<p>{html.escape(table.notes)}</p>" if table.notes else ""
    return (
        f"<section id='{table.anchor}'><h2>{html.escape(table.title)}</h2>"
        f"<div class='table-box'><table><caption>{html.escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{notes}</section>"
    )


def _alt_text(title):
    """What a figure shows, for readers who cannot see it."""
    return f"Figure: {title}, drawn from the predictions (report.json has the numbers)"


def html_page(report, figure_paths):
    """index.html: one self-contained page (images embedded, no network).

    A contents list first, then every table as an HTML table (with a caption)
    and every figure with a caption and alt text.
    """
    tables = report_tables(report)
    figures_list = [("figure-" + _slug(title), title, path) for title, path in figure_paths.items()]
    contents = "".join(
        f"<li><a href='#{t.anchor}'>{html.escape(t.title)}</a></li>" for t in tables
    ) + "".join(f"<li><a href='#{a}'>{html.escape(title)}</a></li>" for a, title, _ in figures_list)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>depnet_tf report</title><style>{_STYLE}</style></head>",
        "<body><h1>depnet_tf report</h1>",
        f"<nav aria-label='Contents'><h2>Contents</h2><ul>{contents}</ul></nav>",
    ]
    parts += [_html_table(table) for table in tables]
    for anchor, title, path in figures_list:
        with files.open_file(path) as file:
            data = base64.b64encode(file.read()).decode()
        parts.append(
            f"<section id='{anchor}'><h2>{html.escape(title)}</h2><figure>"
            f"<img alt='{html.escape(_alt_text(title))}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(title)}. The PNG and PDF are in figures/.</figcaption>"
            "</figure></section>"
        )
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
        "index.html": html_page(report, figure_paths),
    }
    for name, text in outputs.items():
        with atomic_path(os.path.join(out_dir, name)) as temporary:
            with open(temporary, "w") as file:
                file.write(text)
    return {name: os.path.join(out_dir, name) for name in outputs}
