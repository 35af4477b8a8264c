"""Experiment configs: YAML with `arch`, `model`, `data` and `train` sections.

`model` holds `DepNetConfig` fields; `train` defaults to the paper's optimiser
settings (section 5.2.1). Overrides use dotted keys (`train.max_epochs=5`).
Unknown keys are refused by name, so a typo never silently keeps a default.
"""

import copy

import yaml

from depnet_tf import constants as C

DEFAULTS = {
    "arch": "depnet",
    "model": {},  # DepNetConfig fields; validated by DepNetConfig itself
    "data": {
        "manifest": None,  # the manifest CSV
        "cache": None,  # feature cache folder (training on cached features)
        "train_split": "train",
        "val_split": "dev",
        "clips_per_video": 20,  # random T-frame clips per training video per epoch
        "eval_clips_per_video": 10,  # evenly spread clips per validation video
        "batch_size": 16,
        "seed": 0,
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


def _check_keys(values, defaults, where):
    for key, value in values.items():
        if key not in defaults:
            known = sorted(defaults)
            raise ValueError(f"unknown config key '{where}{key}'; known keys: {known}")
        if isinstance(defaults[key], dict) and key != "model":
            if not isinstance(value, dict):
                raise ValueError(f"config section '{where}{key}' must be a mapping, got {value!r}")
            _check_keys(value, defaults[key], f"{where}{key}.")


def merge_config(values, overrides=None):
    """The defaults updated by `values` (a nested dict) and dotted `overrides`."""
    values = copy.deepcopy(values or {})
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.rpartition(".")
        target = values
        for part in filter(None, section.split(".")):
            target = target.setdefault(part, {})
        target[key] = value
    _check_keys(values, DEFAULTS, "")
    merged = copy.deepcopy(DEFAULTS)
    for key, value in values.items():
        if isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    from depnet_tf.models import ARCHS, DepNetConfig

    if merged["arch"] not in ARCHS:
        raise ValueError(f"config key 'arch' must be one of {ARCHS}. Received: {merged['arch']!r}")
    merged["model"] = DepNetConfig.from_dict(merged["model"]).to_dict()
    return merged


def read_config(path, overrides=None):
    """Read a YAML config file and apply dotted `overrides`."""
    try:
        with open(path) as file:
            values = yaml.safe_load(file) or {}
    except FileNotFoundError:
        raise ValueError(f"{path}: no such config file") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: a config must be a mapping of sections")
    try:
        return merge_config(values, overrides)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
