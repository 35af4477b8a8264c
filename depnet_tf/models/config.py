"""`DepNetConfig`: every size and setting of a DepNet model, validated."""

import dataclasses

from depnet_tf import constants as C
from depnet_tf.errors import excerpt
from depnet_tf.layers.precision import check_precision


@dataclasses.dataclass(frozen=True)
class DepNetConfig:
    """The settings of a DepNet (or baseline) model; defaults follow the paper.

    Args:
        num_frames: int, T, frames per clip (paper, section 5.2.1). Default 5.
        image_size: int, S, side of the square face crops. At least 32. Default 224.
        channel_pool: int, channels merged by the C. Max Pool; must divide 2048.
            Default 8 (2048 -> 256, see "Differences from the paper").
        temporal_kernels: tuple of ints, the FAM's k x 1 conv kernels. Default (3, 5, 9).
        branch_filters: int, filters per FAM conv branch (not in the paper). Default 32.
        hlf_channels: int, channels of the FAM's 1x1 conv (the HLF). Default 64.
        fc_units: int, width of the first fully connected layer (not in the
            paper). Default 128.
        dropout: float in [0, 1), dropout rate after the first FC. Default 0.5.
        backbone_weights: `None`, `"vggface2"` or a weight file path, as for
            `SENet50(weights=...)`; `"imagenet"` or a path for ResNet-50 archs.
        stem: `"vggface"` or `"caffe"`, the SENet50 stem (see `SENet50`).
        freeze_backbone: bool, keep the backbone frozen (paper, section 5.2.1). When
            False the backbone trains, with its BatchNorm layers in inference mode.
        precision: `"float32"`, `"mixed_bfloat16"` or `"mixed_float16"`, the Keras
            dtype policy every layer computes in (variables stay float32, and the
            `bdi_ii` output is float32 under every policy). Not in the paper.
            Default `None`: the global policy (`keras.config.dtype_policy()`) when
            the config is made, so the config always holds a concrete name.

    Examples:
    >>> DepNetConfig(image_size=64).to_dict()["image_size"]
    64
    """

    num_frames: int = C.NUM_FRAMES
    image_size: int = C.IMAGE_SIZE
    channel_pool: int = C.CHANNEL_POOL
    temporal_kernels: tuple = C.TEMPORAL_KERNELS
    branch_filters: int = C.BRANCH_FILTERS
    hlf_channels: int = C.HLF_CHANNELS
    fc_units: int = C.FC_UNITS
    dropout: float = C.DROPOUT
    backbone_weights: str | None = None
    stem: str = "vggface"
    freeze_backbone: bool = True
    precision: str | None = None

    def __post_init__(self):
        object.__setattr__(
            self, "precision", check_precision(self.precision, "DepNetConfig.precision")
        )
        object.__setattr__(self, "temporal_kernels", _kernels(self.temporal_kernels))
        _check_int(self, "num_frames", 1, C.MAX_NUM_FRAMES, "one graph branch per frame")
        _check_int(
            self,
            "image_size",
            C.MIN_IMAGE_SIZE,
            C.MAX_IMAGE_SIZE,
            "SENet50's activations grow with the square of the side",
        )
        _check_int(self, "channel_pool", 1, C.BACKBONE_CHANNELS, "it merges backbone channels")
        if C.BACKBONE_CHANNELS % self.channel_pool:
            raise ValueError(
                f"DepNetConfig.channel_pool must divide {C.BACKBONE_CHANNELS} "
                f"(for example 4, 8 or 16). Received: channel_pool={self.channel_pool}"
            )
        kernels = self.temporal_kernels
        if (
            not isinstance(kernels, tuple)
            or not kernels
            or len(kernels) > C.MAX_TEMPORAL_BRANCHES
            or not all(_is_int(k) and 1 <= k <= C.MAX_TEMPORAL_KERNEL for k in kernels)
        ):
            raise ValueError(
                f"DepNetConfig.temporal_kernels must be a list of 1 to {C.MAX_TEMPORAL_BRANCHES} "
                f"integers in 1..{C.MAX_TEMPORAL_KERNEL} (a longer k x 1 kernel over at most "
                f"{C.MAX_NUM_FRAMES} frames sees only padding). "
                f"Received: temporal_kernels={excerpt(self.temporal_kernels)}"
            )
        for name in ("branch_filters", "hlf_channels", "fc_units"):
            _check_int(self, name, 1, C.MAX_LAYER_WIDTH, "64x the paper's widest FAM layer")
        if (
            not isinstance(self.dropout, (int, float))
            or isinstance(self.dropout, bool)
            or not 0 <= self.dropout < 1
        ):
            raise ValueError(
                "DepNetConfig.dropout must be a number in [0, 1). "
                f"Received: dropout={excerpt(self.dropout)}"
            )
        if self.stem not in C.STEMS:
            raise ValueError(
                f"DepNetConfig.stem must be one of {C.STEMS}. Received: stem={excerpt(self.stem)}"
            )
        if self.backbone_weights is not None and not isinstance(self.backbone_weights, str):
            raise ValueError(
                "DepNetConfig.backbone_weights must be None, 'vggface2', 'imagenet' or a "
                f"file path. Received: backbone_weights={excerpt(self.backbone_weights)}"
            )
        if not isinstance(self.freeze_backbone, bool):
            raise ValueError(
                "DepNetConfig.freeze_backbone must be True or False. "
                f"Received: freeze_backbone={excerpt(self.freeze_backbone)}"
            )

    def to_dict(self):
        """A JSON/YAML-friendly dict that `from_dict` turns back into this config."""
        values = dataclasses.asdict(self)
        values["temporal_kernels"] = list(self.temporal_kernels)
        return values

    @classmethod
    def from_dict(cls, values):
        """Build a config from a dict; unknown keys raise a `ValueError` naming them."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(str(key) for key in set(values) - known)
        if unknown:
            shown = unknown[:5] + ([f"... {len(unknown) - 5} more"] if len(unknown) > 5 else [])
            raise ValueError(
                f"Unknown DepNetConfig keys: {excerpt(shown, 200)}. Known keys: {sorted(known)}"
            )
        return cls(**values)

    def replace(self, **changes):
        """A copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _kernels(value):
    """`temporal_kernels` as a tuple; a value that is no list stays as it is, to be refused."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _check_int(config, name, minimum, maximum, why):
    value = getattr(config, name)
    if not _is_int(value) or not minimum <= value <= maximum:
        raise ValueError(
            f"DepNetConfig.{name} must be an integer in {minimum}..{maximum} ({why}). "
            f"Received: {name}={excerpt(value)}"
        )
