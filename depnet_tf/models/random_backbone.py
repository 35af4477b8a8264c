"""Randomly initialised backbones that stay the same: saved once, marked as random.

Without pretrained weights at hand (the demo, tests, a machine without the
VGGFace2 or ImageNet files), a backbone is random. Built anew it would differ
at every build, so no feature cache could match it: it is saved once (seeded)
as a weight file, with a sidecar `<file>.json` saying it is random, and every
output that uses it says so (`describe_weights`).
"""

import json

import keras

from depnet_tf.files import atomic_path, write_large
from depnet_tf.models.registry import architecture

SIDECAR = ".json"


def is_random(weights):
    """Whether `weights` (a `DepNetConfig.backbone_weights` value) is a random backbone."""
    if weights is None:
        return True
    try:
        with open(f"{weights}{SIDECAR}") as file:
            return json.load(file).get("initialisation") == "random"
    except (OSError, ValueError, AttributeError):
        return False


def describe_weights(weights):
    """A short account of a backbone's weights for summaries and tables."""
    if weights is None:
        return "random (initialised anew at every build)"
    if is_random(weights):
        return f"random (seeded, saved in {weights})"
    return str(weights)


def save_random_backbone(arch, config, path, seed=0):
    """Save a seeded random backbone of `arch` at `config`'s size (and stem) to `path`.

    Returns:
        `path`, now holding the weights, and `path` + ".json" marking them random.
    """
    spec = architecture(arch).backbone
    keras.utils.set_random_seed(seed)
    backbone = spec.build(config.image_size, config.stem)
    write_large(path, backbone.save_weights, 4 * backbone.count_params(), "the backbone")
    with atomic_path(f"{path}{SIDECAR}") as temporary:
        with open(temporary, "w") as file:
            json.dump(
                {
                    "initialisation": "random",
                    "backbone": spec.name,
                    "seed": seed,
                    "image_size": config.image_size,
                    "stem": config.stem,
                },
                file,
                indent=2,
            )
    return path
