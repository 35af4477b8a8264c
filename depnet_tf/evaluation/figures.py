"""The report's figures. Each function takes data and returns a matplotlib `Figure`;
the caller decides where to save it (`save_figure` writes PNG and PDF)."""

import numpy as np
import pandas as pd

from depnet_tf.constants import BDI_MAX, SEVERITY_NAMES, SEVERITY_UPPER
from depnet_tf.files import atomic_path
from depnet_tf.severity import severity_band


def _figure(width=5.0, height=4.5, columns=1):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * columns, height), dpi=100)
    axes = figure.subplots(1, columns, squeeze=False)[0]
    return figure, axes


def predicted_vs_true(models, baseline=None):
    """Predicted against true BDI-II per model, with the identity line and the baseline.

    Args:
        models: {name: DataFrame with label, prediction}.
        baseline: the training-set mean label, drawn as the constant predictor.
    """
    figure, (axes,) = _figure()
    axes.plot([0, BDI_MAX], [0, BDI_MAX], color="0.6", linewidth=1, label="identity")
    if baseline is not None:
        axes.axhline(
            baseline,
            color="tab:orange",
            linestyle="--",
            linewidth=1,
            label="baseline (training mean)",
        )
    for name, table in models.items():
        axes.scatter(table["label"], table["prediction"], s=18, alpha=0.8, label=name)
    axes.set(
        xlim=(-2, BDI_MAX + 2),
        ylim=(-2, BDI_MAX + 2),
        xlabel="true BDI-II",
        ylabel="predicted BDI-II",
        title="Predicted vs true",
    )
    axes.legend(loc="upper left", fontsize=7)
    figure.tight_layout()
    return figure


def bland_altman(models):
    """Bland-Altman: difference (prediction - label) against their mean, with the mean
    difference and its 95% limits of agreement (+- 1.96 sd), one panel per model."""
    figure, panels = _figure(columns=len(models))
    for axes, (name, table) in zip(panels, models.items()):
        y, p = table["label"].to_numpy(float), table["prediction"].to_numpy(float)
        mean, difference = (y + p) / 2, p - y
        bias, spread = difference.mean(), 1.96 * difference.std(ddof=1) if len(y) > 1 else 0.0
        axes.scatter(mean, difference, s=18, alpha=0.8)
        for level, style in ((bias, "-"), (bias - spread, "--"), (bias + spread, "--")):
            axes.axhline(level, color="tab:red", linestyle=style, linewidth=1)
        axes.set(
            xlabel="mean of prediction and label",
            ylabel="prediction - label",
            title=f"Bland-Altman: {name}\nbias {bias:.2f}, limits +- {spread:.2f}",
        )
    figure.tight_layout()
    return figure


def error_by_band(models):
    """Absolute error per true Table 1 severity band, one box group per model."""
    figure, (axes,) = _figure(width=6.0)
    count = len(models)
    for index, (name, table) in enumerate(models.items()):
        y, p = table["label"].to_numpy(float), table["prediction"].to_numpy(float)
        band = severity_band(y)
        data = [np.abs(p - y)[band == b] for b in range(len(SEVERITY_NAMES))]
        places = np.arange(len(SEVERITY_NAMES)) + (index - (count - 1) / 2) * 0.8 / count
        shown = [(d, x) for d, x in zip(data, places) if len(d)]
        if shown:
            boxes = axes.boxplot(
                [d for d, _ in shown],
                positions=[x for _, x in shown],
                widths=0.7 / count,
                patch_artist=True,
            )
            for patch in boxes["boxes"]:
                patch.set_facecolor(f"C{index}")
            axes.plot([], [], color=f"C{index}", linewidth=6, label=name)
    lower = [0, *[u + 1 for u in SEVERITY_UPPER[:-1]]]
    axes.set_xticks(range(len(SEVERITY_NAMES)))
    axes.set_xticklabels(
        [f"{n}\n{lo}-{hi}" for n, lo, hi in zip(SEVERITY_NAMES, lower, SEVERITY_UPPER)], fontsize=8
    )
    axes.set(ylabel="absolute error", title="Absolute error by true severity band (Table 1)")
    axes.legend(fontsize=7)
    figure.tight_layout()
    return figure


def metric_bars(models):
    """RMSE and MAE per model with their 95% bootstrap interval bars.

    Args:
        models: {name: {"metrics": {...}, "ci95": {...}}} as in `report.json`.
    """
    figure, panels = _figure(width=4.0, columns=2)
    names = list(models)
    for axes, metric in zip(panels, ("rmse", "mae")):
        values = np.array([models[n]["metrics"][metric] for n in names])
        low = np.array([models[n]["ci95"][metric][0] for n in names])
        high = np.array([models[n]["ci95"][metric][1] for n in names])
        errors = np.vstack([values - low, high - values])
        axes.bar(
            range(len(names)),
            values,
            yerr=errors,
            capsize=4,
            color=[f"C{i}" for i in range(len(names))],
        )
        axes.set_xticks(range(len(names)))
        axes.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
        axes.set(ylabel=metric.upper(), title=f"{metric.upper()} with 95% bootstrap interval")
    figure.tight_layout()
    return figure


CURVES = ("loss", "rmse", "val_rmse", "val_mae")  # history.csv columns worth a curve


def curve_columns(history):
    """The `CURVES` columns of `history` holding at least one number (a run without
    validation logs NA for `val_*`; those get no legend entry)."""
    return [
        column
        for column in CURVES
        if column in history and pd.to_numeric(history[column], errors="coerce").notna().any()
    ]


def training_curves(history):
    """The loss and validation metrics per epoch of a run's `history.csv` (a DataFrame).

    Only the columns with values are drawn, and epochs are whole numbers (1, 2, ...).
    """
    from matplotlib.ticker import MaxNLocator

    figure, (axes,) = _figure(width=6.0)
    epochs = history["epoch"] + 1 if "epoch" in history else np.arange(1, len(history) + 1)
    for column in curve_columns(history):
        axes.plot(epochs, pd.to_numeric(history[column], errors="coerce"), marker="o", label=column)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set(xlabel="epoch", title="Training curves (history.csv)")
    axes.legend(fontsize=8)
    figure.tight_layout()
    return figure


def save_figure(figure, path_without_extension):
    """Write the figure as PNG and PDF (atomically); returns the PNG path."""
    paths = []
    for extension in ("png", "pdf"):
        path = f"{path_without_extension}.{extension}"
        with atomic_path(path) as temporary:
            figure.savefig(temporary, format=extension)
        paths.append(path)
    return paths[0]
