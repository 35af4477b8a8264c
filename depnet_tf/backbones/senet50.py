"""SE-ResNet-50 with the layer names of keras-vggface (paper, section 4.1)."""

import keras
from keras import layers

from depnet_tf.backbones.squeeze_excite import apply_squeeze_excite
from depnet_tf.constants import (
    BN_EPSILON,
    MIN_IMAGE_SIZE,
    SENET50_STAGE_BLOCKS,
    SENET50_STAGE_FILTERS,
    STEMS,
    VGGFACE2_CLASSES,
)
from depnet_tf.layers.ceil_max_pool import CeilMaxPooling2D
from depnet_tf.layers.mixed_normalization import MixedBatchNormalization
from depnet_tf.layers.precision import policy_name, policy_scope


def apply_bottleneck_block(x, filters, strides, stage, block, epsilon):
    """One SE-ResNet bottleneck: 1x1 reduce, 3x3, 1x1 increase, SE, shortcut.

    The SE gate scales the residual branch *before* the sum with the shortcut
    (paper, section 4.1.3). As in keras-vggface and the VGGFace2 release, the
    stride sits on the 1x1 reduce and projection convolutions, not on the 3x3.
    Block 1 of every stage has a projection shortcut (`_1x1_proj`).
    """
    name = f"conv{stage}_{block}"

    def conv_bn(y, width, kernel, conv_strides, suffix, relu):
        y = layers.Conv2D(
            width,
            kernel,
            strides=conv_strides,
            padding="same" if kernel > 1 else "valid",
            use_bias=False,
            name=f"{name}_{suffix}",
        )(y)
        y = MixedBatchNormalization(epsilon=epsilon, name=f"{name}_{suffix}_bn")(y)
        if relu:
            y = layers.Activation("relu", name=f"{name}_{suffix}_relu")(y)
        return y

    residual = conv_bn(x, filters, 1, strides, "1x1_reduce", relu=True)
    residual = conv_bn(residual, filters, 3, 1, "3x3", relu=True)
    residual = conv_bn(residual, 4 * filters, 1, 1, "1x1_increase", relu=False)
    residual = apply_squeeze_excite(residual, name=name)
    if block == 1:
        shortcut = conv_bn(x, 4 * filters, 1, strides, "1x1_proj", relu=False)
    else:
        shortcut = x
    x = layers.Add(name=f"{name}_add")([residual, shortcut])
    return layers.Activation("relu", name=f"{name}_relu")(x)


def apply_stem(x, stem, epsilon):
    """7x7/2 convolution, BN, ReLU and a 3x3/2 max-pool.

    keras-vggface ("vggface") uses a `same` convolution (TensorFlow pads 2 before
    and 3 after at 224) and a `valid` pool: 224 -> 112 -> 55. The VGGFace2
    Caffe/PyTorch release ("caffe") pads 3 on every side and pools in ceil mode:
    224 -> 112 -> 56. The weights differ per stem, so the topology must match.
    """
    if stem == "caffe":
        x = layers.ZeroPadding2D(3, name="conv1_7x7_s2_pad")(x)
    x = layers.Conv2D(
        64,
        7,
        strides=2,
        padding="same" if stem == "vggface" else "valid",
        use_bias=False,
        name="conv1_7x7_s2",
    )(x)
    x = MixedBatchNormalization(epsilon=epsilon, name="conv1_7x7_s2_bn")(x)
    x = layers.Activation("relu", name="conv1_7x7_s2_relu")(x)
    if stem == "caffe":
        return CeilMaxPooling2D(3, 2, name="pool1")(x)
    return layers.MaxPooling2D(3, strides=2, padding="valid", name="pool1")(x)


# Registered under its first name, "SENet50", so `.keras` files written before
# the builder/constructor split still load.
@keras.saving.register_keras_serializable(package="depnet_tf", name="SENet50")
class SENet50Backbone(keras.Model):
    """The SE-ResNet-50 network of VGGFace2; `depnet_tf.SENet50` builds it and loads weights.

    This is the frozen feature extractor of DepNet (paper, section 4.1): stages
    of [3, 4, 6, 3] bottleneck blocks with [64, 128, 256, 512] x (1, 1, 4)
    filters, each with a Squeeze-and-Excitation unit (r = 16). Layer names are
    keras-vggface's with "/" replaced by "_" (for example `conv1/7x7_s2/bn` ->
    `conv1_7x7_s2_bn`), so VGGFace2 weights map on by name.

    Like the `keras.applications` models, it takes *preprocessed* input: use
    `depnet_tf.preprocess_input` (RGB 0-255 -> BGR minus the VGGFace2 means).

    Args:
        input_shape: tuple, (height, width, 3). Defaults to (224, 224, 3).
            Spatial sizes must be at least 32; `None` is allowed for the
            "vggface" stem without top.
        include_top: bool, whether to end with the 8631-way softmax
            `classifier` after global average pooling (`avg_pool`).
        pooling: `None` (the last conv map, (7, 7, 2048) at 224), `"avg"` or
            `"max"` (2048-d vectors). Ignored with `include_top=True`.
        classes: int, classifier width with `include_top=True`. Defaults to 8631.
        stem: `"vggface"` (keras-vggface topology, BN epsilon 1e-4) or
            `"caffe"` (VGGFace2 Caffe/PyTorch topology, BN epsilon 1e-5).
        **kwargs: passed to `keras.Model`; `dtype`, a dtype policy (for example
            `"mixed_bfloat16"`), applies to the model and every layer inside it.
            Defaults to the global policy.

    Examples:
    >>> import numpy as np
    >>> model = SENet50Backbone(input_shape=(32, 32, 3))
    >>> model.predict(np.zeros((1, 32, 32, 3)), verbose=0).shape
    (1, 1, 1, 2048)
    """

    def __init__(
        self,
        input_shape=(224, 224, 3),
        include_top=False,
        pooling=None,
        classes=VGGFACE2_CLASSES,
        stem="vggface",
        name="senet50",
        **kwargs,
    ):
        input_shape = tuple(input_shape)
        _validate_args(input_shape, include_top, pooling, classes, stem)
        epsilon = BN_EPSILON[stem]
        # The layers inside compute in the model's policy (a functional model's
        # own `dtype` does not reach the layers it is made of).
        dtype = policy_name(kwargs.pop("dtype", None))

        # === Functional Model ===
        with policy_scope(dtype):
            inputs = keras.Input(shape=input_shape, name="image")
            x = apply_stem(inputs, stem, epsilon)
            for stage_index, (blocks, filters) in enumerate(
                zip(SENET50_STAGE_BLOCKS, SENET50_STAGE_FILTERS)
            ):
                stage = stage_index + 2  # keras-vggface numbers the stages 2..5
                for block in range(1, blocks + 1):
                    strides = 2 if block == 1 and stage > 2 else 1
                    x = apply_bottleneck_block(x, filters, strides, stage, block, epsilon)
            if include_top:
                x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
                x = layers.Dense(classes, activation="softmax", name="classifier")(x)
            elif pooling == "avg":
                x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
            elif pooling == "max":
                x = layers.GlobalMaxPooling2D(name="max_pool")(x)
        super().__init__(inputs=inputs, outputs=x, name=name, **kwargs)
        self.dtype_policy = dtype  # a functional model drops `dtype=`

        # === Config ===
        self.image_shape = input_shape
        self.include_top = include_top
        self.pooling = pooling
        self.classes = classes
        self.stem = stem

    def get_config(self):
        # Weights are not part of the config: a reloaded model gets its weights
        # from the saved file, never by loading or downloading them again.
        return {
            "input_shape": list(self.image_shape),
            "include_top": self.include_top,
            "pooling": self.pooling,
            "classes": self.classes,
            "stem": self.stem,
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype_policy.name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _validate_args(input_shape, include_top, pooling, classes, stem):
    if stem not in STEMS:
        raise ValueError(f"`stem` must be one of {STEMS}. Received: stem={stem!r}")
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(
            f"`input_shape` must be (height, width, 3). Received: input_shape={input_shape}"
        )
    for size in input_shape[:2]:
        if size is None:
            if stem == "caffe":
                raise ValueError(
                    "The 'caffe' stem needs a fixed input size (its ceil-mode pool "
                    f"pads by size). Received: input_shape={input_shape}"
                )
        elif size < MIN_IMAGE_SIZE:
            raise ValueError(
                f"SENet50 downsamples by 32, so its input must be at least "
                f"{MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE}. Received: input_shape={input_shape}"
            )
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"`pooling` must be None, 'avg' or 'max'. Received: pooling={pooling!r}")
    if include_top and (int(classes) != classes or classes < 1):
        raise ValueError(f"`classes` must be a positive integer. Received: classes={classes}")
