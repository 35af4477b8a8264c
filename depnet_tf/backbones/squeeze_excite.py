"""The Squeeze-and-Excitation unit shared by every SE-ResNet bottleneck."""

from keras import layers

from depnet_tf.constants import SE_REDUCTION
from depnet_tf.layers.mixed_normalization import MixedGlobalAveragePooling2D


def apply_squeeze_excite(x, ratio=SE_REDUCTION, name=None):
    """Rescale the channels of `x` by a learned gate (paper, section 4.1.1, eqs. 2-4).

    Squeeze: global average pooling gives one value per channel (eq. 2).
    Excitation: FC(C / ratio) + ReLU + FC(C) + sigmoid (eq. 3), written as 1x1
    convolutions with bias, as in keras-vggface (`_1x1_down`, `_1x1_up`) and the
    VGGFace2 release (`conv4`, `conv5`). Scale: channel-wise product (eq. 4).

    Args:
        x: a 4D channels-last tensor.
        ratio: int, the reduction ratio r. Defaults to 16.
        name: str, prefix such as "conv2_1"; the convolutions are named
            "{name}_1x1_down" and "{name}_1x1_up".

    Returns:
        A tensor shaped like `x`.
    """
    channels = x.shape[-1]
    se = MixedGlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(x)
    se = layers.Conv2D(channels // ratio, 1, use_bias=True, name=f"{name}_1x1_down")(se)
    se = layers.Activation("relu", name=f"{name}_1x1_down_relu")(se)
    se = layers.Conv2D(channels, 1, use_bias=True, name=f"{name}_1x1_up")(se)
    se = layers.Activation("sigmoid", name=f"{name}_1x1_up_sigmoid")(se)
    return layers.Multiply(name=f"{name}_se_scale")([x, se])
