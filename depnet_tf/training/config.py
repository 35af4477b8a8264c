"""Experiment configs: YAML with `arch`, `model`, `data` and `train` sections.

`model` holds `DepNetConfig` fields; `train` defaults to the paper's optimiser
settings (section 5.2.1). Overrides use dotted keys (`train.max_epochs=5`).
Unknown keys are refused by name, so a typo never silently keeps a default.
A config may start from others (`base: paper.yaml` or a list), so the paper's
settings for the eight architecture x data set pairs share one base.
"""

import copy
import math
import numbers
import os

from depnet_tf import configs as shipped
from depnet_tf import constants as C
from depnet_tf import yamlfile
from depnet_tf.errors import ConfigError, excerpt
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
        # XLA-compiled train/eval steps: "auto" on GPUs/TPUs only, true, or false; always
        # off when deterministic or distributed (`trainer.use_xla` says why)
        "xla": "auto",
    },
}


SEED_MAX = 2**32 - 1  # NumPy's and TensorFlow's random generators take 32-bit seeds


def _integer(minimum, maximum, why):
    def check(value):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return ok and minimum <= value <= maximum, f"an integer in {minimum}..{maximum} ({why})"

    return check


def _number(low, high, why, low_open=False, high_open=False):
    def check(value):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
        ok = ok and (value > low if low_open else value >= low)
        ok = ok and (value < high if high_open else value <= high)
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        return ok, f"a number in {interval} ({why})"

    return check


def _text(optional):
    def check(value):
        ok = (isinstance(value, str) and value.strip() != "") or (optional and value in (None, ""))
        ok = ok and (value is None or "\0" not in value)
        return ok, "a non-empty string" + (" or null" if optional else "")

    return check


def _flag(value):
    return isinstance(value, bool), "true or false"


def _flag_or_auto(value):
    return isinstance(value, bool) or value == "auto", "true, false or auto"


_SPLIT = _text(optional=False)
# The type and range of every `data` and `train` setting, and why the range.
CHECKS = {
    "data": {
        "manifest": _text(optional=True),
        "cache": _text(optional=True),
        "train_split": _SPLIT,
        "val_split": _text(optional=True),
        "test_split": _text(optional=True),
        "clips_per_video": _integer(1, 10_000, "random clips per video and epoch"),
        "eval_clips_per_video": _integer(1, 10_000, "evenly spread clips per video"),
        "batch_size": _integer(1, 4096, "4096 clips of 5 224 px frames are 3 GB of pixels"),
        "seed": _integer(0, SEED_MAX, "random generators take 32-bit seeds"),
        "allow_subject_overlap": _flag,
    },
    "train": {
        "base_lr": _number(0, 1e30, "the paper's is 1e-5", low_open=True),
        "lr_gamma": _number(0, 1e3, "Caffe's inv policy; the paper's is 1e-4"),
        "lr_power": _number(0, 1e3, "Caffe's inv policy; the paper's is 0.75"),
        "momentum": _number(0, 1, "SGD momentum; the paper's is 0.9", high_open=True),
        "weight_decay": _number(0, 1, "L2 factor; the paper's is 5e-4"),
        "early_stop_iterations": _integer(1, 10**9, "iterations without a better loss"),
        "max_epochs": _integer(1, 10**6, "passes over the training clips"),
        "out_dir": _text(optional=False),
        "end_to_end": _flag,
        "unfreeze_last_stage": _flag,
        "validate_every": _integer(1, 10**6, "epochs between validations"),
        "deterministic": _flag,
        "xla": _flag_or_auto,
    },
}


def check_settings(config):
    """Refuse a merged config with a setting of the wrong type or range, naming its key.

    Messages quote at most a short excerpt of the value; a setting that only
    makes sense with another one (`unfreeze_last_stage` needs `end_to_end`) is
    refused too, rather than ignored.
    """
    for section, checks in CHECKS.items():
        for key, check in checks.items():
            value = config[section][key]
            ok, expected = check(value)
            if not ok:
                raise ConfigError(
                    f"config key '{section}.{key}' must be {expected}. Received: {excerpt(value)}"
                )
    train = config["train"]
    if train["unfreeze_last_stage"] and not train["end_to_end"]:
        raise ConfigError(
            "config key 'train.unfreeze_last_stage' needs 'train.end_to_end: true' "
            "(--end-to-end): the backbone trains only when the model trains on frames"
        )


def _check_keys(values, defaults, where):
    for key, value in values.items():
        if key not in defaults:
            known = sorted(defaults)
            raise ConfigError(f"unknown config key {excerpt(f'{where}{key}')}; known keys: {known}")
        if isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(
                    f"config section '{where}{key}' must be a mapping. Received: {excerpt(value)}"
                )
            if key == "model":
                continue
            _check_keys(value, defaults[key], f"{where}{key}.")


def set_dotted(values, dotted, value):
    """Set `values["a"]["b"] = value` for the dotted key "a.b" (creating sections)."""
    section, _, key = dotted.rpartition(".")
    target = values
    for part in filter(None, section.split(".")):
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ConfigError(
                f"config key {excerpt(dotted)}: {part!r} is a value, not a section of keys"
            )
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
        raise ConfigError(f"config key 'arch' must be one of {ARCHS}. Received: {excerpt(arch)}")
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
    """A YAML file's top-level mapping; one-line `ConfigError`s name the file.

    The file is read by `yamlfile.load_file`: bounded in size and depth, with
    aliases refused, so a hostile file fails fast with one line.
    """
    values = yamlfile.load_file(path) or {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: a config must be a mapping of sections")
    return values


MAX_BASES = 16  # a chain of `base:` files deeper than this is refused


def load_yaml(path, _chain=()):
    """A config file's mapping, before defaults; `base:` files are read first, recursively.

    `base` names one file or a list of files, relative to this file's folder,
    or shipped configs by name (`base: paper`) when no such file is there;
    later files and this file's own values win, section by section. A file
    that is its own base (through any chain) and chains deeper than
    `MAX_BASES` are refused by name.
    """
    path = os.fspath(path)
    key = os.path.realpath(path)
    if key in _chain:
        raise ConfigError(f"{path}: its 'base' files include each other")
    if len(_chain) >= MAX_BASES:
        raise ConfigError(f"{path}: more than {MAX_BASES} levels of 'base' files")
    values = read_mapping(path)
    bases = values.pop("base", None) or []
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ConfigError(f"{path}: 'base' must be a file name or a list of them")
    merged = {}
    for base in bases:
        base_path = os.path.join(os.path.dirname(os.path.abspath(path)), base)
        if not os.path.isfile(base_path):
            base_path = shipped.path(base) or base_path
        merged = deep_merge(merged, load_yaml(base_path, (*_chain, key)))
    return deep_merge(merged, values)


def config_path(value):
    """The file `--config VALUE` names: a path, else a shipped config (`paper`, ...).

    A `ConfigError` names both possibilities when it is neither.
    """
    found = shipped.resolve(value)
    if found is None:
        value = os.fspath(value)
        shown = value if len(value) <= 1024 and value.isprintable() else excerpt(value)
        raise ConfigError(
            f"{shown}: no such config file, and no shipped config of that "
            f"name (shipped: {', '.join(shipped.names())}; `depnet configs` lists them)"
        )
    return found


def read_config(path, overrides=None):
    """Read a YAML config (a file, or a shipped config's name) and apply dotted `overrides`."""
    path = config_path(path)
    values = load_yaml(path)
    try:
        return merge_config(values, overrides)
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from None
