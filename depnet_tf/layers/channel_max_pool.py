"""C. Max Pool: max-pooling along the channel axis (paper, section 4.2)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="depnet_tf")
class ChannelMaxPool(keras.layers.Layer):
    """Max over groups of `pool_size` adjacent channels (kernel = stride = pool_size).

    The paper reduces each 2048x7x7 LLF to 256x7x7 this way before the temporal
    layers, so 2048 / `pool_size` channels remain. It has no weights.

    Args:
        pool_size: int, the number of adjacent channels merged into one.
            Must divide the input's channel count. Paper default: 8.

    Examples:
    >>> import numpy as np
    >>> ChannelMaxPool(8)(np.zeros((2, 5, 7, 7, 2048), "float32")).shape
    (2, 5, 7, 7, 256)
    """

    def __init__(self, pool_size=8, **kwargs):
        super().__init__(**kwargs)
        if int(pool_size) != pool_size or pool_size < 1:
            raise ValueError(
                f"`pool_size` must be a positive integer. Received: pool_size={pool_size}"
            )
        self.pool_size = int(pool_size)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels % self.pool_size:
            raise ValueError(
                f"`pool_size` must divide the number of channels. Received: "
                f"pool_size={self.pool_size} for {channels} channels"
            )

    def call(self, inputs):
        shape = ops.shape(inputs)
        channels = inputs.shape[-1]
        grouped = ops.reshape(inputs, (*shape[:-1], channels // self.pool_size, self.pool_size))
        return ops.max(grouped, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // self.pool_size)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}
