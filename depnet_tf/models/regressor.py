"""DepNet and the paper's comparison models as functional Keras models (paper, Figure 1)."""

import keras
from keras import layers

from depnet_tf.backbones.senet50 import SENet50
from depnet_tf.constants import IMAGENET_MEAN_BGR, VGGFACE2_MEAN_BGR
from depnet_tf.layers import BGRMeanSubtraction, ChannelMaxPool, FeatureAggregation, PerFrame
from depnet_tf.models.config import DepNetConfig

# The paper's models (Tables 2 and 3). "Sequence" models take T frames through
# the FAM; "single" models take one frame and average-pool the LLF.
ARCHS = ("depnet", "senet-single", "resnet50-single", "resnet50-sequence")
SEQUENCE_ARCHS = ("depnet", "resnet50-sequence")

# Layers from the cached per-frame features to the score, in order.
_SEQUENCE_HEAD = ("hlf", "hlf_flatten", "fc1", "fc1_relu", "dropout", "bdi_ii")
_SINGLE_HEAD = ("fc1", "fc1_relu", "dropout", "bdi_ii")


@keras.saving.register_keras_serializable(package="depnet_tf")
class DepressionRegressor(keras.Model):
    """A BDI-II regressor from face frames: DepNet or one of its baselines.

    `arch="depnet"` is the paper's network (section 4, Figures 1 and 6):

    frames (B, T, S, S, 3), RGB 0-255
    -> `preprocess`: RGB -> BGR minus the VGGFace2 means
    -> `llf`: SENet50 per frame, (B, T, 7, 7, 2048), frozen by default
    -> `channel_max_pool`: (B, T, 7, 7, 256)
    -> `temporal_concat`: (B, T, 12544)
    -> `hlf`: the FAM, (B, 1, 12544, 64)
    -> `fc1` -> ReLU -> `dropout` -> `bdi_ii`: (B, 1)

    The other archs are the comparison models of Tables 2 and 3:
    `"resnet50-sequence"` swaps in `keras.applications.ResNet50` (with its own
    ImageNet means); `"senet-single"` and `"resnet50-single"` take one frame
    (B, S, S, 3), global-average-pool the LLF (`gap`) and use the same FC head.

    Build it through `depnet_tf.build_depnet` or `depnet_tf.build_model`, which
    also load `config.backbone_weights`; the constructor never loads weights,
    so a `.keras` file reloads without touching the original weight file.

    Args:
        arch: str, one of `ARCHS`. Defaults to "depnet".
        config: a `DepNetConfig` (or its dict). Defaults to the paper's.

    Examples:
    >>> import numpy as np
    >>> config = DepNetConfig(image_size=32, num_frames=3, fc_units=8)
    >>> model = DepressionRegressor("depnet", config)
    >>> model.predict(np.zeros((2, 3, 32, 32, 3)), verbose=0).shape
    (2, 1)
    """

    def __init__(self, arch="depnet", config=None, name=None, **kwargs):
        if arch not in ARCHS:
            raise ValueError(f"`arch` must be one of {ARCHS}. Received: arch={arch!r}")
        if config is None:
            config = DepNetConfig()
        elif isinstance(config, dict):
            config = DepNetConfig.from_dict(config)
        sequence = arch in SEQUENCE_ARCHS
        size = config.image_size
        backbone = _make_backbone(arch, config)
        mean = IMAGENET_MEAN_BGR if arch.startswith("resnet50") else VGGFACE2_MEAN_BGR

        # === Functional Model ===
        if sequence:
            frames = keras.Input((config.num_frames, size, size, 3), name="frames")
        else:
            frames = keras.Input((size, size, 3), name="frame")
        x = BGRMeanSubtraction(mean, name="preprocess")(frames)
        if sequence:
            x = PerFrame(backbone, name="llf")(x)
            x = ChannelMaxPool(config.channel_pool, name="channel_max_pool")(x)
            steps, height, width, channels = x.shape[1:]
            x = layers.Reshape((steps, height * width * channels), name="temporal_concat")(x)
            x = FeatureAggregation(
                config.temporal_kernels,
                config.branch_filters,
                config.hlf_channels,
                name="hlf",
            )(x)
            x = layers.Flatten(name="hlf_flatten")(x)
        else:
            x = backbone(x)
            x = layers.GlobalAveragePooling2D(name="gap")(x)
        x = layers.Dense(config.fc_units, name="fc1")(x)
        x = layers.Activation("relu", name="fc1_relu")(x)
        x = layers.Dropout(config.dropout, name="dropout")(x)
        outputs = layers.Dense(1, name="bdi_ii")(x)
        super().__init__(inputs=frames, outputs=outputs, name=name or arch.replace("-", "_"), **kwargs)

        # === Config ===
        self.arch = arch
        self.config = config
        if config.freeze_backbone:
            backbone.trainable = False

    @property
    def backbone(self):
        """The image backbone (SENet50 or ResNet50) shared by every frame."""
        layer = self.get_layer("llf") if self.arch in SEQUENCE_ARCHS else self.layers[2]
        return layer.layer if isinstance(layer, PerFrame) else layer

    @property
    def head_input_shape(self):
        """Shape of one sample of the head's input: (T, N) for sequence archs, (2048,) else."""
        name = "temporal_concat" if self.arch in SEQUENCE_ARCHS else "gap"
        return tuple(self.get_layer(name).output.shape[1:])

    def head_model(self):
        """Everything after the frozen features, as a model sharing this model's weights.

        For DepNet that is the FAM and the FC head, fed with (B, T, N) pooled LLFs
        (N = 12544 at 224 px). Training it on cached features trains the very
        weights of this model.
        """
        names = _SEQUENCE_HEAD if self.arch in SEQUENCE_ARCHS else _SINGLE_HEAD
        inputs = keras.Input(self.head_input_shape, name="features")
        x = inputs
        for name in names:
            x = self.get_layer(name)(x)
        return keras.Model(inputs, x, name=f"{self.name}_head")

    def get_config(self):
        return {
            "arch": self.arch,
            "config": self.config.to_dict(),
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _make_backbone(arch, config):
    shape = (config.image_size, config.image_size, 3)
    if arch.startswith("resnet50"):
        return keras.applications.ResNet50(include_top=False, weights=None, input_shape=shape)
    return SENet50(input_shape=shape, stem=config.stem)


def build_model(arch="depnet", config=None):
    """Build one of the paper's models and load `config.backbone_weights`.

    Args:
        arch: `"depnet"`, `"senet-single"`, `"resnet50-single"` or
            `"resnet50-sequence"` (paper, Tables 2 and 3).
        config: a `DepNetConfig`, a dict of its fields, or `None` for the defaults.

    Returns:
        A `DepressionRegressor` (a `keras.Model`) taking float32 RGB 0-255 frames.

    Examples:
    >>> model = build_model("senet-single", DepNetConfig(image_size=32, fc_units=4))
    >>> model.output_shape
    (None, 1)
    """
    model = DepressionRegressor(arch, config)
    weights = model.config.backbone_weights
    if weights is not None:
        if arch.startswith("resnet50"):
            _load_resnet50_weights(model.backbone, weights)
        else:
            from depnet_tf.weights import load_vggface2

            load_vggface2(model, weights)
    return model


def build_depnet(config=None):
    """Build the paper's DepNet; see `DepressionRegressor` for the layers.

    Args:
        config: a `DepNetConfig`, a dict of its fields, or `None` for the defaults.

    Returns:
        A `keras.Model` from (batch, T, S, S, 3) float32 RGB 0-255 to (batch, 1).
    """
    return build_model("depnet", config)


def _load_resnet50_weights(backbone, weights):
    if weights == "imagenet":
        source = keras.applications.ResNet50(
            include_top=False, weights="imagenet", input_shape=backbone.input_shape[1:]
        )
        backbone.set_weights(source.get_weights())
    else:
        backbone.load_weights(weights)
