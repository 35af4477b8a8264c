"""Max-pooling with Caffe's / PyTorch's `ceil_mode=True` output size."""

import keras
from keras import ops


def ceil_mode_padding(size, pool_size, strides):
    """Extra bottom/right padding that makes a `valid` pool give ceil-mode sizes.

    Caffe (and PyTorch with `ceil_mode=True`) computes the output length as
    ceil((size - pool) / stride) + 1 instead of floor, so one more window may
    hang off the end. The window never starts in the padding.
    """
    out = -(-(size - pool_size) // strides) + 1
    return max((out - 1) * strides + pool_size - size, 0)


@keras.saving.register_keras_serializable(package="depnet_tf")
class CeilMaxPooling2D(keras.layers.Layer):
    """2D max-pooling, no padding, with ceil-mode output size (VGGFace2 Caffe stem).

    The VGGFace2 SE-ResNet-50 released in Caffe (and its PyTorch port) pools the
    112x112 stem output to 56x56; Keras' `valid` pooling gives 55x55. The extra
    row/column is padded with -inf, so it never wins the max.

    Args:
        pool_size: int, square window size. Defaults to 3.
        strides: int, step. Defaults to 2.

    Examples:
    >>> import numpy as np
    >>> CeilMaxPooling2D()(np.zeros((1, 112, 112, 64), "float32")).shape
    (1, 56, 56, 64)
    """

    def __init__(self, pool_size=3, strides=2, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.strides = int(strides)

    def call(self, inputs):
        pad_h = ceil_mode_padding(inputs.shape[1], self.pool_size, self.strides)
        pad_w = ceil_mode_padding(inputs.shape[2], self.pool_size, self.strides)
        x = ops.pad(
            inputs,
            ((0, 0), (0, pad_h), (0, pad_w), (0, 0)),
            constant_values=float("-inf"),
        )
        return ops.max_pool(x, self.pool_size, self.strides, padding="valid")

    def compute_output_shape(self, input_shape):
        def out(size):
            if size is None:
                return None
            return -(-(size - self.pool_size) // self.strides) + 1

        return (input_shape[0], out(input_shape[1]), out(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides}
