"""`depnet experiment`: a grid of `depnet train` runs, each scored on the test split.

A grid file names a base config, overrides for every cell, and the axes to
sweep, with the dotted keys `--set` takes::

    base: avec2014.yaml   # beside the grid file, else from the cwd, else a shipped config
    set: {train.max_epochs: 50}            # optional
    grid:
      arch: [depnet, senet-single, resnet50-single, resnet50-sequence]
      data.seed: [0, 1, 2]

Each cell is a normal training run in `DIR/<cell>/`, followed by evaluation on
`data.test_split`; a finished cell (its `result.json`) is skipped, a killed one
resumes as `train` does. Cells that train on cached features share one cache
per backbone feature, built under `DIR/caches/`. `DIR/results.csv` and
`DIR/tables.md` (the paper's Tables 2-3 layout) gather the finished cells.
"""

import dataclasses
import hashlib
import itertools
import json
import logging
import os
import re
import time

import pandas as pd

from depnet_tf import configs as shipped
from depnet_tf.data import Manifest, build_cache
from depnet_tf.errors import ConfigError
from depnet_tf.evaluation import evaluate_split
from depnet_tf.evaluation.tables import dataset_of, results_table
from depnet_tf.files import MAX_NAME_LENGTH, atomic_path
from depnet_tf.models import DepNetConfig, architecture, build_model
from depnet_tf.models.loading import load_regressor
from depnet_tf.models.random_backbone import describe_weights, is_random, save_random_backbone
from depnet_tf.training.config import load_yaml, merge_config, read_mapping
from depnet_tf.training.trainer import train

log = logging.getLogger(__name__)
RESULT = "result.json"
METRICS = ("rmse", "mae", "clip_rmse", "clip_mae", "videos", "iterations", "seconds")


@dataclasses.dataclass(frozen=True)
class Cell:
    """One run of the grid: its position, folder name and dotted overrides."""

    index: int
    name: str
    values: dict  # axis -> value


@dataclasses.dataclass
class Grid:
    path: str
    base_path: str
    base: dict  # the base config's values (its own `base` files merged in)
    overrides: dict  # `set`: dotted key -> value
    axes: dict  # dotted key -> list of values

    def cells(self):
        """Every combination of the axes, in the grid file's order (the last axis fastest)."""
        names = list(self.axes)
        cells = []
        for index, values in enumerate(itertools.product(*self.axes.values())):
            chosen = dict(zip(names, values))
            label = "_".join(f"{axis}-{value}" for axis, value in chosen.items())
            # A folder name: safe characters only, short enough for our temporaries.
            safe = re.sub(r"[^A-Za-z0-9._=-]+", "-", label)[: MAX_NAME_LENGTH - 8]
            cells.append(Cell(index, f"{index:03d}_{safe}", chosen))
        return cells


def read_grid(path):
    """Read and check a grid file; its base is found beside it, else from the cwd, else shipped."""
    raw = read_mapping(path)
    unknown = sorted(set(raw) - {"base", "set", "grid"})
    if unknown:
        raise ConfigError(f"{path}: unknown grid keys {unknown}; a grid has base, set and grid")
    base = raw.get("base")
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path}: 'base' must name a `depnet train` config file")
    beside = os.path.join(os.path.dirname(os.path.abspath(path)), base)
    base_path = beside if os.path.isfile(beside) else shipped.resolve(base)
    if base_path is None:
        raise ConfigError(
            f"{path}: base config {base!r} found neither beside the grid, nor from "
            f"{os.getcwd()}, nor among the shipped configs ({', '.join(shipped.names())})"
        )
    overrides = raw.get("set") or {}
    axes = raw.get("grid")
    if not isinstance(overrides, dict):
        raise ConfigError(f"{path}: 'set' must map dotted keys to values")
    if not isinstance(axes, dict) or not axes:
        raise ConfigError(f"{path}: 'grid' must map at least one dotted key to a list of values")
    for axis, choices in axes.items():
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{path}: grid axis {axis!r} must be a non-empty list")
    grid = Grid(os.fspath(path), base_path, load_yaml(base_path), dict(overrides), dict(axes))
    for cell in grid.cells():  # every cell's config must be valid before anything runs
        try:
            merge_config(grid.base, {**grid.overrides, **cell.values})
        except ValueError as error:
            raise ConfigError(f"{path}: cell {cell.name}: {error}") from None
    return grid


def cell_config(grid, cell, out_dir):
    """The cell's full training config, its backbone weights resolved (see `_backbone`)."""
    overrides = {**grid.overrides, **cell.values}
    config = merge_config(grid.base, overrides)
    config["train"]["out_dir"] = os.path.join(out_dir, cell.name)
    config["model"]["backbone_weights"] = _backbone(grid, config, overrides, out_dir)
    return config


def _backbone(grid, config, overrides, out_dir):
    """The cell's backbone weights.

    - A random backbone (none given, or a file marked random, as the demo's) is
      saved once per backbone and size under `DIR/backbones/` (seeded) and
      shared by every cell; every output says it is random.
    - A cell whose backbone differs from the base config's (SENet50 vs
      ResNet-50) cannot use the base's file; it takes its backbone's paper
      weights (VGGFace2, ImageNet) unless the grid sets `model.backbone_weights`.
    """
    weights = config["model"]["backbone_weights"]
    base_arch = merge_config(grid.base, grid.overrides)["arch"]
    backbone = architecture(config["arch"]).backbone
    same_backbone = architecture(base_arch).backbone is backbone
    if is_random(weights):
        model = DepNetConfig.from_dict(config["model"])
        if weights is not None and same_backbone and os.path.isfile(weights):
            return weights
        name = f"{backbone.name}-{model.stem if backbone.uses_stem else 'default'}-"
        path = os.path.join(out_dir, "backbones", f"{name}{model.image_size}px.weights.h5")
        if not os.path.isfile(path):
            save_random_backbone(config["arch"], model, path, seed=0)
        return path
    if not same_backbone and "model.backbone_weights" not in overrides:
        return backbone.paper_weights
    return weights


def _cache_for(config, out_dir, progress):
    """Build (or finish) the cell's feature cache under `DIR/caches/`; returns its folder."""
    model = build_model(config["arch"], DepNetConfig.from_dict(config["model"]))
    spec = model.feature_spec()
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
    folder = os.path.join(out_dir, "caches", f"{spec['backbone']}-{key}")
    manifest = Manifest.read(config["data"]["manifest"])
    _, failures = build_cache(model, manifest, folder, progress=progress)
    if failures:
        first = failures[0][1]
        raise ConfigError(
            f"the feature cache {folder} skipped {len(failures)} videos "
            f"(first: {first}); fix them with `depnet cache` first"
        )
    return folder


def run_cell(grid, cell, out_dir, progress=False):
    """Train and score one cell (or skip a finished one); returns its result dict."""
    folder = os.path.join(out_dir, cell.name)
    done = os.path.join(folder, RESULT)
    if os.path.isfile(done):
        with open(done) as file:
            return json.load(file)
    began = time.perf_counter()
    config = cell_config(grid, cell, out_dir)
    on_cache = not config["train"]["end_to_end"]
    if on_cache:
        config["data"]["cache"] = _cache_for(config, out_dir, progress)
    log.info(
        "cell %s: training (%s)", cell.name, describe_weights(config["model"]["backbone_weights"])
    )
    summary = train(config, progress=progress)
    model = load_regressor(summary["model"])
    manifest = Manifest.read(config["data"]["manifest"])
    data = config["data"]
    result = evaluate_split(
        model,
        manifest,
        data["test_split"],
        clips=data["eval_clips_per_video"],
        batch_size=data["batch_size"],
        cache=config["data"]["cache"] if on_cache else None,
    )
    for table, name in ((result.videos, "test_predictions.csv"), (result.clips, "test_clips.csv")):
        with atomic_path(os.path.join(folder, name)) as temporary:
            table.to_csv(temporary, index=False)
    record = {
        **cell.values,
        **{key: result.summary[key] for key in ("rmse", "mae", "clip_rmse", "clip_mae", "videos")},
        "iterations": summary["iterations"],
        "seconds": round(time.perf_counter() - began, 1),
        "arch": config["arch"],
        "backbone_weights": describe_weights(config["model"]["backbone_weights"]),
        "conventions": result.summary["conventions"],
    }
    with atomic_path(done) as temporary:
        with open(temporary, "w") as file:
            json.dump(record, file, indent=2)
    return record


def collect(grid, out_dir):
    """Write `DIR/results.csv` and `DIR/tables.md` from the finished cells; returns the table."""
    rows = []
    for cell in grid.cells():
        path = os.path.join(out_dir, cell.name, RESULT)
        if os.path.isfile(path):
            with open(path) as file:
                record = json.load(file)
            rows.append(
                {
                    **cell.values,
                    **{k: record[k] for k in METRICS},
                    "arch_trained": record["arch"],
                    "backbone_weights": record["backbone_weights"],
                }
            )
    columns = [*grid.axes, *METRICS]
    table = pd.DataFrame(rows, columns=[*columns, "arch_trained", "backbone_weights"])
    with atomic_path(os.path.join(out_dir, "results.csv")) as temporary:
        table[columns].to_csv(temporary, index=False)
    base = merge_config(grid.base, grid.overrides)
    backbones = sorted(set(table["backbone_weights"]))
    random = [b for b in backbones if b.startswith("random")]
    note = (
        f"**Backbone: RANDOMLY INITIALISED** ({'; '.join(random)}): these numbers say "
        "nothing about depression."
        if random
        else f"Backbone weights: {', '.join(backbones)}."
    )
    text = (
        f"# Results of `{grid.path}`\n\n{len(table)} of {len(grid.cells())} cells finished; "
        f"scored per video on the `{base['data']['test_split']}` split (paper, eqs. 6-7).\n\n"
        + results_table(
            table.assign(arch=table["arch_trained"]),
            list(grid.axes),
            dataset_of(base["data"]["manifest"]),
            note,
        )
    )
    with atomic_path(os.path.join(out_dir, "tables.md")) as temporary:
        with open(temporary, "w") as file:
            file.write(text)
    return table


def run_experiment(grid, out_dir, only=None, progress=False):
    """Run every cell (or only cell `only`), then collect; returns the results table."""
    cells = grid.cells()
    if only is not None:
        if not 0 <= only < len(cells):
            raise ValueError(
                f"`only` must be a cell index in 0-{len(cells) - 1}. Received: only={only}"
            )
        cells = [cells[only]]
    for cell in cells:
        run_cell(grid, cell, out_dir, progress)
    return collect(grid, out_dir)
