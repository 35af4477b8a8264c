"""VGGFace2-style input preprocessing: RGB 0-255 -> BGR minus the channel means."""

import keras
import numpy as np
from keras import ops

from depnet_tf.constants import VGGFACE2_MEAN_BGR


def preprocess_input(x):
    """Apply keras-vggface's `preprocess_input(x, version=2)` to RGB images.

    The VGGFace2 SE-ResNet-50 was trained on BGR images with the data set's mean
    subtracted and no scaling, so RGB 0-255 input is flipped to BGR and
    (91.4953, 103.8827, 131.0912) is subtracted. The last axis must be channels.

    Args:
        x: array-like of RGB values in 0-255, channels last, any leading shape.

    Returns:
        A float32 NumPy array of the same shape, BGR, mean-subtracted.

    Examples:
    >>> import numpy as np
    >>> preprocess_input(np.zeros((1, 2, 2, 3)))[0, 0, 0]
    array([ -91.4953, -103.8827, -131.0912], dtype=float32)
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 0 or x.shape[-1] != 3:
        raise ValueError(
            f"`preprocess_input` expects RGB images with 3 channels last. "
            f"Received: x.shape={x.shape}"
        )
    return x[..., ::-1] - np.asarray(VGGFACE2_MEAN_BGR, dtype=np.float32)


@keras.saving.register_keras_serializable(package="depnet_tf")
class BGRMeanSubtraction(keras.layers.Layer):
    """In-graph Caffe-style preprocessing: RGB -> BGR, then subtract `mean`.

    With the default mean this equals `preprocess_input` (VGGFace2). Keeping it
    inside the model means exported SavedModels take raw RGB frames. The
    subtraction is done in float32 and only its result is cast to the layer's
    compute dtype (under a mixed policy the raw pixels are not autocast first).

    Args:
        mean: three floats, the BGR means to subtract. Defaults to VGGFace2's.

    Examples:
    >>> layer = BGRMeanSubtraction()
    >>> layer(np.zeros((1, 5, 4, 4, 3), "float32")).shape
    (1, 5, 4, 4, 3)
    """

    def __init__(self, mean=VGGFACE2_MEAN_BGR, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        mean = tuple(float(m) for m in mean)
        if len(mean) != 3:
            raise ValueError(f"`mean` must hold 3 BGR values. Received: mean={mean}")
        self.mean = mean

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        x = ops.flip(x, axis=-1) - ops.convert_to_tensor(self.mean, "float32")
        return ops.cast(x, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mean": list(self.mean)}
