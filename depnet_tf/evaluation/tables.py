"""The paper's Tables 2 and 3 from experiment results: ours (mean +- sd) beside theirs."""

import numpy as np

from depnet_tf.constants import PAPER_ARCH_NAMES, PAPER_TABLE_NUMBERS, PAPER_TABLES


def dataset_of(manifest_path):
    """ "avec2013" or "avec2014" when the manifest's path names one, else None."""
    text = str(manifest_path or "").lower()
    found = [name for name in PAPER_TABLES if name in text]
    return found[0] if len(found) == 1 else None


def _mean_sd(values):
    values = np.asarray(values, np.float64)
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{values.mean():.2f} +- {values.std(ddof=1):.2f}"


def _paper(dataset, arch):
    figures = PAPER_TABLES[dataset].get(arch)
    return (f"{figures[0]:.2f}", f"{figures[1]:.2f}") if figures else ("-", "-")


def results_table(results, axes, dataset=None, backbone_note="", arch="depnet"):
    """Markdown tables in the layout of the paper's Tables 2-3.

    Args:
        results: a DataFrame of `results.csv` (one row per cell: the axis
            columns, `rmse`, `mae`, ...).
        axes: the grid's axis names. `arch` gives the rows; axes whose name
            ends in `seed` are averaged over (mean +- sample sd); one table is
            written per combination of the other axes.
        dataset: "avec2013" or "avec2014" for that table's paper figures; None
            shows both.
        backbone_note: a line said above the tables (e.g. that the backbone is random).
        arch: the architecture of every cell when `arch` is not an axis.
    """
    other = [a for a in axes if a != "arch" and not a.endswith("seed")]
    seeds = [a for a in axes if a.endswith("seed")]
    datasets = [dataset] if dataset else list(PAPER_TABLES)
    lines = []
    if backbone_note:
        lines += [backbone_note, ""]
    groups = results.groupby(other, sort=False) if other else [((), results)]
    for key, rows in groups:
        key = key if isinstance(key, tuple) else (key,)
        title = ", ".join(f"{a}={v}" for a, v in zip(other, key))
        tables = " / ".join(f"Table {PAPER_TABLE_NUMBERS[d]} ({d.upper()})" for d in datasets)
        lines.append(f"### {title or 'all cells'}: the layout of the paper's {tables}")
        lines.append("")
        if seeds:
            lines.append(f"Ours: mean +- sample standard deviation over {', '.join(seeds)}.")
            lines.append("")
        header = "| Deep Architecture | RMSE | MAE | cells |"
        rule = "|---|---|---|---|"
        for d in datasets:
            header += f" paper RMSE ({d.upper()}) | paper MAE ({d.upper()}) |"
            rule += "---|---|"
        lines += [header, rule]
        archs = rows["arch"] if "arch" in rows else np.full(len(rows), arch)
        for name in [a for a in PAPER_ARCH_NAMES if a in set(archs)]:
            cells = rows[np.asarray(archs) == name]
            row = (
                f"| {PAPER_ARCH_NAMES[name]} | {_mean_sd(cells['rmse'])} | "
                f"{_mean_sd(cells['mae'])} | {len(cells)} |"
            )
            for d in datasets:
                row += " {} | {} |".format(*_paper(d, name))
            lines.append(row)
        lines.append("")
    return "\n".join(lines)
