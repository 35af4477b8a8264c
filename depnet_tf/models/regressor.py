"""DepNet and the paper's comparison models as functional Keras models (paper, Figure 1)."""

import hashlib

import keras
import numpy as np
from keras import layers

from depnet_tf.layers import BGRMeanSubtraction, ChannelMaxPool, FeatureAggregation, PerFrame
from depnet_tf.layers.precision import check_precision, policy_scope
from depnet_tf.models.config import DepNetConfig
from depnet_tf.models.registry import architecture

# Layers from the cached per-frame features to the score, in order.
_SEQUENCE_HEAD = ("hlf", "hlf_flatten", "fc1", "fc1_relu", "dropout", "bdi_ii")
_SINGLE_HEAD = ("fc1", "fc1_relu", "dropout", "bdi_ii")
# Of `feature_spec()`, the feature cache key; 2: frames rounded to uint8; 3: precision.
FEATURE_SPEC_VERSION = 3


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
        provenance: dict, what made the weights (JSON values; `depnet train`
            records it). Defaults to empty: an untrained or hand-built model.
        **kwargs: passed to `keras.Model`. A `dtype` (a policy name) replaces
            `config.precision` (so `DepressionRegressor(..., dtype="mixed_bfloat16")`
            works as for any Keras layer). Every layer computes in `config.precision` except the
            `bdi_ii` output, which is float32 under every policy: a bfloat16
            score would move in steps of 0.125-0.25 between 16 and 63.

    Examples:
    >>> import numpy as np
    >>> config = DepNetConfig(image_size=32, num_frames=3, fc_units=8)
    >>> model = DepressionRegressor("depnet", config)
    >>> model.predict(np.zeros((2, 3, 32, 32, 3)), verbose=0).shape
    (2, 1)
    """

    def __init__(self, arch="depnet", config=None, name=None, provenance=None, **kwargs):
        spec = architecture(arch)
        if config is None:
            config = DepNetConfig()
        elif isinstance(config, dict):
            config = DepNetConfig.from_dict(config)
        dtype = kwargs.pop("dtype", None)
        if dtype is not None:
            config = config.replace(precision=check_precision(dtype, "DepressionRegressor dtype"))

        # === Functional Model ===
        with policy_scope(config.precision):
            backbone = spec.backbone.build(config.image_size, config.stem)
            frames = keras.Input(spec.input_shape(config), name=spec.input_name)
            x = BGRMeanSubtraction(spec.backbone.mean_bgr, name="preprocess")(frames)
            if spec.is_sequence:
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
            outputs = layers.Dense(1, dtype="float32", name="bdi_ii")(x)
        super().__init__(
            inputs=frames, outputs=outputs, name=name or spec.name.replace("-", "_"), **kwargs
        )
        self.dtype_policy = config.precision  # a functional model drops `dtype=`

        # === Config ===
        self.arch = spec.name
        self.config = config
        # What made these weights (`depnet train` fills it: the run's config and
        # data digests, the backbone's weights, the face pipeline); saved with the
        # model, so it travels with the `.keras` file (see `training.provenance`).
        self.provenance = dict(provenance or {})
        if config.freeze_backbone:
            backbone.trainable = False
        else:
            # Fine-tuning keeps BatchNorm in inference mode (its moving statistics
            # and scales stay the pretrained ones), as Caffe fine-tuning of
            # VGGFace2's SENet does with `use_global_stats`.
            for layer in backbone.layers:
                if isinstance(layer, layers.BatchNormalization):
                    layer.trainable = False

    @property
    def architecture(self):
        """This model's entry in `depnet_tf.models.registry`."""
        return architecture(self.arch)

    @property
    def backbone(self):
        """The image backbone (SENet50 or ResNet50) shared by every frame."""
        layer = self.get_layer(self.architecture.backbone_layer)
        return layer.layer if isinstance(layer, PerFrame) else layer

    @property
    def head_input_shape(self):
        """Shape of one sample of the head's input: (T, N) for sequence archs, (2048,) else."""
        name = "temporal_concat" if self.architecture.is_sequence else "gap"
        return tuple(self.get_layer(name).output.shape[1:])

    def head_model(self):
        """Everything after the frozen features, as a model sharing this model's weights.

        For DepNet that is the FAM and the FC head, fed with (B, T, N) pooled LLFs
        (N = 12544 at 224 px). Training it on cached features trains the very
        weights of this model.
        """
        names = _SEQUENCE_HEAD if self.architecture.is_sequence else _SINGLE_HEAD
        inputs = keras.Input(self.head_input_shape, name="features")
        x = inputs
        for name in names:
            x = self.get_layer(name)(x)
        head = keras.Model(inputs, x, name=f"{self.name}_head")
        head.dtype_policy = self.config.precision
        return head

    def feature_extractor(self):
        """The frozen part per frame: RGB 0-255 (S, S, 3) -> the head's per-frame input (N,).

        This is what the feature cache stores for each frame: the channel
        max-pooled LLF, flattened (sequence archs), or the average-pooled LLF
        (single-frame archs); see `Architecture.cache_feature`. It shares this
        model's weights.
        """
        size = self.config.image_size
        frame = keras.Input((size, size, 3), name="frame")
        x = self.get_layer("preprocess")(frame)
        x = self.backbone(x, training=False)
        x = self.get_layer(self.architecture.cache_feature)(x)
        if self.architecture.is_sequence:
            x = layers.Flatten(name="flatten")(x)
        extractor = keras.Model(frame, x, name=f"{self.name}_features")
        extractor.dtype_policy = self.config.precision
        return extractor

    def feature_spec(self):
        """What `feature_extractor()`'s output depends on: the feature cache's key.

        A cache built with another spec (other backbone weights, stem, size,
        pool or preprocessing) is refused by `depnet_tf.data.check_cache`.
        """
        spec = self.architecture
        return {
            "version": FEATURE_SPEC_VERSION,
            "arch": self.arch,
            "backbone": self.backbone.name,
            "backbone_weights_sha256": weights_hash(self.backbone),
            "stem": self.config.stem if spec.backbone.uses_stem else None,
            "image_size": self.config.image_size,
            "channel_pool": self.config.channel_pool,
            "preprocessing": {"order": "BGR", "mean": list(spec.backbone.mean_bgr)},
            "feature_shape": list(self.head_input_shape[-1:]),
            "precision": self.config.precision,
            "dtype": "float16",
        }

    def with_precision(self, precision):
        """This model under another dtype policy: same weights, same provenance.

        Returns `self` when it already computes in `precision`. The explanations
        take gradients through a float32 twin: 16-bit gradients of a score
        underflow or round away.
        """
        if precision == self.config.precision:
            return self
        twin = DepressionRegressor(
            self.arch,
            self.config.replace(precision=precision),
            name=self.name,
            provenance=self.provenance,
        )
        # By path: trainable flags (set after building) may order the lists differently.
        targets = {weight.path: weight for weight in twin.weights}
        for weight in self.weights:
            targets[weight.path].assign(weight)
        return twin

    def get_config(self):
        config = {
            "arch": self.arch,
            "config": self.config.to_dict(),
            "name": self.name,
            "trainable": self.trainable,
        }
        if self.provenance:
            config["provenance"] = self.provenance
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


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
        model.architecture.backbone.load_weights(model.backbone, weights)
    return model


def build_depnet(config=None):
    """Build the paper's DepNet; see `DepressionRegressor` for the layers.

    Args:
        config: a `DepNetConfig`, a dict of its fields, or `None` for the defaults.

    Returns:
        A `keras.Model` from (batch, T, S, S, 3) float32 RGB 0-255 to (batch, 1).
    """
    return build_model("depnet", config)


def weights_hash(layer):
    """sha256 of a layer's weights (names, shapes and bytes), short hex."""
    digest = hashlib.sha256()
    for weight in layer.weights:
        value = np.ascontiguousarray(weight.numpy())
        digest.update(f"{weight.path}:{value.shape}:{value.dtype}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()[:16]
