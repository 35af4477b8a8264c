"""Experiment configs: YAML with `arch`, `model`, `data` and `train` sections.

`model` holds `DepNetConfig` fields; `train` defaults to the paper's optimiser
settings (section 5.2.1). Overrides use dotted keys (`train.max_epochs=5`).
Unknown keys are refused by name, so a typo never silently keeps a default.
A config may start from others (`base: paper.yaml` or a list), so the paper's
settings for the eight architecture x data set pairs share one base.
"""

import copy
import numbers
import os

import yaml

from depnet_tf import constants as C
from depnet_tf.errors import ConfigError
from depnet_tf.models import ARCHS, DepNetConfig, architecture

DEFAULTS = {
    "arch": "depnet",
    "model": {},  # DepNetConfig fields; validated by DepNetConfig itself
    "data": {
        "manifest": None,  # the manifest CSV
        "cache": None,  # feature cache folder (training on cached features)
        "train_split": "train",
        "val_split": "dev",
        "test_split": "test",  # what `depnet experiment` scores each cell on
        "clips_per_video": 20,  # random T-frame clips per training video per epoch
        "eval_clips_per_video": 10,  # evenly spread clips per validation video
        "batch_size": 16,
        "seed": 0,
        # A subject's videos in two splits leak into the test scores; allowing
        # it must be explicit, and is written to the run's summary.
        "allow_subject_overlap": False,
    },
    "train": {
        "base_lr": C.BASE_LR,
        "lr_gamma": C.LR_GAMMA,
        "lr_power": C.LR_POWER,
        "momentum": C.MOMENTUM,
        "weight_decay": C.WEIGHT_DECAY,
        "early_stop_iterations": C.EARLY_STOP_ITERATIONS,
        "max_epochs": 100,
        "out_dir": "runs/depnet",
        "end_to_end": False,  # train on frames instead of the cache
        "unfreeze_last_stage": False,  # with end_to_end: also train SENet50's conv5 stage
        "validate_every": 1,  # epochs between per-video validations
        "deterministic": False,  # TF deterministic ops (slower; exact resumes)
    },
}


def _integer(minimum):
    def check(value):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        return ok, f"an integer >= {minimum}"

    return check


def _number(low, high=None, low_open=False):
    def check(value):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        ok = ok and (value > low if low_open else value >= low) and (high is None or value < high)
        bound = f"> {low}" if low_open else f">= {low}"
        return ok, f"a number {bound}" + (f" and < {high}" if high is not None else "")

    return check


def _text(optional):
    def check(value):
        ok = (isinstance(value, str) and value.strip() != "") or (optional and value in (None, ""))
        return ok, "a non-empty string" + (" or null" if optional else "")

    return check


def _flag(value):
    return isinstance(value, bool), "true or false"


# The type and range of every `data` and `train` setting.
CHECKS = {
    "data": {
        "manifest": _text(optional=True),
        "cache": _text(optional=True),
        "train_split": _text(optional=False),
        "val_split": _text(optional=True),
        "test_split": _text(optional=True),
        "clips_per_video": _integer(1),
        "eval_clips_per_video": _integer(1),
        "batch_size": _integer(1),
        "seed": _integer(0),
        "allow_subject_overlap": _flag,
    },
    "train": {
        "base_lr": _number(0, low_open=True),
        "lr_gamma": _number(0),
        "lr_power": _number(0),
        "momentum": _number(0, 1),
        "weight_decay": _number(0),
        "early_stop_iterations": _integer(1),
        "max_epochs": _integer(1),
        "out_dir": _text(optional=False),
        "end_to_end": _flag,
        "unfreeze_last_stage": _flag,
        "validate_every": _integer(1),
        "deterministic": _flag,
    },
}


def check_settings(config):
    """Refuse a merged config with a setting of the wrong type or range, naming its key."""
    for section, checks in CHECKS.items():
        for key, check in checks.items():
            value = config[section][key]
            ok, expected = check(value)
            if not ok:
                raise ConfigError(
                    f"config key '{section}.{key}' must be {expected}. Received: {value!r}"
                )


def _check_keys(values, defaults, where):
    for key, value in values.items():
        if key not in defaults:
            known = sorted(defaults)
            raise ConfigError(f"unknown config key '{where}{key}'; known keys: {known}")
        if isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config section '{where}{key}' must be a mapping, got {value!r}")
            if key == "model":
                continue
            _check_keys(value, defaults[key], f"{where}{key}.")


def set_dotted(values, dotted, value):
    """Set `values["a"]["b"] = value` for the dotted key "a.b" (creating sections)."""
    section, _, key = dotted.rpartition(".")
    target = values
    for part in filter(None, section.split(".")):
        target = target.setdefault(part, {})
    target[key] = value


def deep_merge(base, top):
    """`base` updated by `top`, section by section (a new dict)."""
    merged = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_config(values, overrides=None):
    """The full config: defaults < the arch's paper settings < `values` < dotted `overrides`.

    The paper trains sequence models on the frozen backbone's features and
    fine-tunes the single-image models on frames (`Architecture.paper_settings`);
    a config that names an `arch` gets those settings unless it sets them itself.
    A `data.cache` containing `{backbone}` gets the backbone's name there, so one
    data config serves the SENet50 and the ResNet-50 caches.
    """
    values = copy.deepcopy(values or {})
    for dotted, value in (overrides or {}).items():
        set_dotted(values, dotted, value)
    _check_keys(values, DEFAULTS, "")
    arch = values.get("arch", DEFAULTS["arch"])
    if arch not in ARCHS:
        raise ConfigError(f"config key 'arch' must be one of {ARCHS}. Received: {arch!r}")
    presets = {}
    for dotted, value in architecture(arch).paper_settings.items():
        set_dotted(presets, dotted, value)
    merged = deep_merge(deep_merge(DEFAULTS, presets), values)
    try:
        merged["model"] = DepNetConfig.from_dict(merged["model"]).to_dict()
    except ValueError as error:
        raise ConfigError(f"config section 'model': {error}") from None
    check_settings(merged)
    if merged["data"]["cache"]:
        backbone = architecture(arch).backbone.name
        merged["data"]["cache"] = merged["data"]["cache"].replace("{backbone}", backbone)
    return merged


def read_mapping(path):
    """A YAML file's top-level mapping; one-line `ConfigError`s name the file."""
    try:
        with open(path) as file:
            values = yaml.safe_load(file) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text (YAML) file") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: a config must be a mapping of sections")
    return values


def load_yaml(path):
    """A config file's mapping, before defaults; `base:` files are read first, recursively.

    `base` names one file or a list of files, relative to this file's folder;
    later files and this file's own values win, section by section.
    """
    path = os.fspath(path)
    values = read_mapping(path)
    bases = values.pop("base", None) or []
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ConfigError(f"{path}: 'base' must be a file name or a list of them")
    merged = {}
    for base in bases:
        base_path = os.path.join(os.path.dirname(os.path.abspath(path)), base)
        try:
            merged = deep_merge(merged, load_yaml(base_path))
        except RecursionError:
            raise ConfigError(f"{path}: its 'base' files include each other") from None
    return deep_merge(merged, values)


def read_config(path, overrides=None):
    """Read a YAML config file (with its `base` files) and apply dotted `overrides`."""
    values = load_yaml(path)
    try:
        return merge_config(values, overrides)
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from None
