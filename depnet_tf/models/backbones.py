"""Backbone builders: construct the network, then load its weights (as `keras.applications`).

Constructors only build (`SENet50Backbone`, `keras.applications.ResNet50` with
`weights=None`); these builders also load weights. So `depnet_tf.backbones`
never imports the weight readers, and the readers may use the backbone class.
"""

import keras

from depnet_tf.backbones.senet50 import SENet50Backbone
from depnet_tf.constants import VGGFACE2_CLASSES
from depnet_tf.weights import load_vggface2


def SENet50(  # noqa: N802 - named like the keras.applications builders
    input_shape=(224, 224, 3),
    include_top=False,
    weights=None,
    pooling=None,
    classes=VGGFACE2_CLASSES,
    stem="vggface",
    name="senet50",
):
    """SE-ResNet-50 as trained on VGGFace2, in the style of `keras.applications`.

    Builds a `depnet_tf.backbones.SENet50Backbone` (paper, section 4.1) and
    loads `weights`.

    `input_shape`, `include_top`, `pooling`, `classes`, `stem` and `name` are as
    for `SENet50Backbone`.

    Args:
        weights: `None` (random), `"vggface2"` (keras-vggface's file, looked up
            in its cache, then downloaded) or the path of a weight file in any
            format `depnet_tf.weights.load_vggface2` reads.

    Returns:
        A `SENet50Backbone` (a `keras.Model`) taking `preprocess_input`'s output.

    Examples:
    >>> import numpy as np
    >>> model = SENet50(input_shape=(32, 32, 3))
    >>> model.predict(np.zeros((1, 32, 32, 3)), verbose=0).shape
    (1, 1, 1, 2048)
    """
    model = SENet50Backbone(
        input_shape=input_shape,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        stem=stem,
        name=name,
    )
    if weights is not None:
        load_vggface2(model, weights)
    return model


def load_resnet50_weights(backbone, weights):
    """`"imagenet"` (keras.applications' file) or a Keras weight file, into a ResNet50."""
    if weights == "imagenet":
        source = keras.applications.ResNet50(
            include_top=False, weights="imagenet", input_shape=backbone.input_shape[1:]
        )
        backbone.set_weights(source.get_weights())
    else:
        backbone.load_weights(weights)
