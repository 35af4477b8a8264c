"""Apply an image model to every frame of a clip in one batched call."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="depnet_tf")
class PerFrame(keras.layers.Wrapper):
    """Run `layer` on each of the T frames of (batch, T, ...) input.

    Unlike `keras.layers.TimeDistributed`, which calls the wrapped layer once per
    time step, this folds time into the batch, (batch * T, ...), so the backbone
    runs as one large batch: one copy of the graph and better CPU throughput.

    Args:
        layer: a `keras.layers.Layer` (for example an image backbone) that maps
            (batch, ...) to (batch, ...).

    Examples:
    >>> import numpy as np, keras
    >>> PerFrame(keras.layers.Dense(4))(np.zeros((2, 5, 3), "float32")).shape
    (2, 5, 4)
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)

    def build(self, input_shape):
        super().build((None, *input_shape[2:]))

    def call(self, inputs, training=None):
        shape = ops.shape(inputs)
        folded = ops.reshape(inputs, (-1, *inputs.shape[2:]))
        outputs = self.layer(folded, training=training)
        return ops.reshape(outputs, (shape[0], shape[1], *outputs.shape[1:]))

    def compute_output_spec(self, inputs, training=None):
        # The wrapped layer computes (and casts its output) in its own dtype
        # policy, which may differ from this wrapper's; report its dtype.
        folded = keras.KerasTensor((None, *inputs.shape[2:]), dtype=inputs.dtype)
        inner = self.layer.compute_output_spec(folded)
        shape = (inputs.shape[0], inputs.shape[1], *inner.shape[1:])
        return keras.KerasTensor(shape, dtype=inner.dtype)

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None, *input_shape[2:]))
        return (input_shape[0], input_shape[1], *inner[1:])
