"""The architecture table: what each of the paper's four models is (Tables 2 and 3).

Every other part of the package asks this table (`architecture(name)`) instead
of comparing architecture names: the model builder, the feature cache, the
trainer, evaluation and export.
"""

import dataclasses

import keras

from depnet_tf.backbones.senet50 import SENet50Backbone
from depnet_tf.constants import ARCH_NAMES, IMAGENET_MEAN_BGR, VGGFACE2_MEAN_BGR
from depnet_tf.models.backbones import load_resnet50_weights
from depnet_tf.weights import load_vggface2

SEQUENCE = "sequence"  # T frames -> per-frame LLF -> C. Max Pool -> FAM -> FC head
SINGLE = "single"  # one frame -> LLF -> global average pool -> FC head


@dataclasses.dataclass(frozen=True)
class Backbone:
    """An image backbone: how to build it, load its weights, and preprocess its input.

    Attributes:
        name: the backbone model's (and layer's) name.
        mean_bgr: preprocessing, RGB 0-255 -> BGR minus these means.
        uses_stem: whether `DepNetConfig.stem` selects its topology.
        build: `build(image_size, stem)` -> an unweighted backbone model.
        load_weights: `load_weights(backbone, weights)`, for `DepNetConfig.backbone_weights`.
        paper_weights: the pretrained weights the paper starts from (section 4.1):
            VGGFace2 for SENet50, ImageNet for the ResNet-50 baselines.
    """

    name: str
    mean_bgr: tuple
    uses_stem: bool
    build: object
    load_weights: object
    paper_weights: str


def _senet50(image_size, stem):
    return SENet50Backbone(input_shape=(image_size, image_size, 3), stem=stem)


def _resnet50(image_size, stem):
    del stem  # one topology
    shape = (image_size, image_size, 3)
    return keras.applications.ResNet50(include_top=False, weights=None, input_shape=shape)


SENET50 = Backbone("senet50", VGGFACE2_MEAN_BGR, True, _senet50, load_vggface2, "vggface2")
RESNET50 = Backbone(
    "resnet50", IMAGENET_MEAN_BGR, False, _resnet50, load_resnet50_weights, "imagenet"
)

# How the paper trains each kind of model (section 5.2.1 and 5.3.1), as config
# overrides. Sequence models: the backbone is frozen and the FAM and head train
# on its features (the cache). Single-image models: "we fine-tune the SENet only
# using the facial images", so the backbone trains on face frames; BatchNorm
# stays in inference mode (the paper does not say; see the README).
_PAPER_TRAINING = {
    SEQUENCE: {"model.freeze_backbone": True, "train.end_to_end": False},
    SINGLE: {"model.freeze_backbone": False, "train.end_to_end": True},
}


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One of the paper's models.

    Attributes:
        name: the name `build_model` and `--arch` take.
        kind: `SEQUENCE` (T frames through the FAM) or `SINGLE` (one frame).
        backbone: the `Backbone`.
        cache_feature: the per-frame feature the cache stores for it:
            `"channel_max_pool"` (the pooled LLF, flattened: 12,544 values at
            224 px) or `"gap"` (the globally average-pooled LLF: 2,048 values).
        input_name: the model's input, and the export signature's.
        paper: the row of the paper's Tables 2-3 it reproduces.
    """

    name: str
    kind: str
    backbone: Backbone
    cache_feature: str
    input_name: str
    paper: str

    @property
    def is_sequence(self):
        return self.kind == SEQUENCE

    def frames_per_sample(self, config):
        """T for sequence models, 1 for single-frame models."""
        return config.num_frames if self.is_sequence else 1

    @property
    def paper_settings(self):
        """Dotted config overrides that train this model as the paper did."""
        return dict(_PAPER_TRAINING[self.kind])

    def input_shape(self, config):
        """One sample's input shape: (T, S, S, 3) or (S, S, 3), RGB 0-255."""
        frame = (config.image_size, config.image_size, 3)
        return (config.num_frames, *frame) if self.is_sequence else frame

    @property
    def backbone_layer(self):
        """The name of the model layer that holds (or wraps) the backbone."""
        return "llf" if self.is_sequence else self.backbone.name


_ARCHITECTURES = (
    Architecture("depnet", SEQUENCE, SENET50, "channel_max_pool", "frames", "DepNet"),
    Architecture("senet-single", SINGLE, SENET50, "gap", "frame", "SENet (single image)"),
    Architecture("resnet50-single", SINGLE, RESNET50, "gap", "frame", "ResNet-50 (single image)"),
    Architecture(
        "resnet50-sequence",
        SEQUENCE,
        RESNET50,
        "channel_max_pool",
        "frames",
        "ResNet-50 (image sequence)",
    ),
)
REGISTRY = {arch.name: arch for arch in _ARCHITECTURES}
ARCHS = tuple(REGISTRY)
assert ARCHS == ARCH_NAMES, "constants.ARCH_NAMES must list the registry's architectures"
SEQUENCE_ARCHS = tuple(name for name, arch in REGISTRY.items() if arch.is_sequence)


def architecture(name):
    """The `Architecture` called `name`; an unknown name is a `ValueError` listing `ARCHS`."""
    if isinstance(name, Architecture):
        return name
    if name not in REGISTRY:
        raise ValueError(f"`arch` must be one of {ARCHS}. Received: arch={name!r}")
    return REGISTRY[name]
