"""BatchNormalization and global average pooling that keep 16-bit activations 16-bit.

Under a mixed policy Keras' `BatchNormalization` and `GlobalAveragePooling2D`
cast their whole input to float32, compute, and cast back: on the CPU the
bfloat16 -> float32 cast of a (16, 56, 56, 256) map took 8.6 ms against 1.6 ms
for the bfloat16 mean itself (docs/guide/precision.md, "Why the CPU stops short
of 2x"). SENet50 has 53 BatchNormalization layers and 16 SE squeezes, so those
casts cost more than the 16-bit convolutions save. These two layers compute the
same functions without the casts, and fall back to Keras' own code otherwise.
"""

import keras
from keras import ops

_SIXTEEN_BIT = ("float16", "bfloat16")


@keras.saving.register_keras_serializable(package="depnet_tf")
class MixedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` with a 16-bit inference path.

    In inference (or when frozen) with a float16/bfloat16 compute dtype on
    TensorFlow, channels last, it runs TensorFlow's fused batch-norm kernel on
    the 16-bit activations with the float32 statistics: each value is
    normalised in float32 inside the kernel and rounded once to 16 bits, as
    Keras' cast-compute-cast does, without two float32 copies of the map. The
    weights, their names and everything else are Keras' layer's.
    """

    def call(self, inputs, training=None, mask=None):
        if (
            (training and self.trainable)
            or mask is not None
            or self.compute_dtype not in _SIXTEEN_BIT
            or keras.backend.backend() != "tensorflow"
            or len(inputs.shape) != 4
            or self.axis not in (-1, 3)
            or not (self.scale and self.center)
        ):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        outputs, *_ = tf.raw_ops.FusedBatchNormV3(
            x=ops.cast(inputs, self.compute_dtype),
            scale=self.gamma.value,
            offset=self.beta.value,
            mean=self.moving_mean.value,
            variance=self.moving_variance.value,
            epsilon=self.epsilon,
            data_format="NHWC",
            is_training=False,
        )
        return outputs


@keras.saving.register_keras_serializable(package="depnet_tf")
class MixedGlobalAveragePooling2D(keras.layers.GlobalAveragePooling2D):
    """`keras.layers.GlobalAveragePooling2D` that averages 16-bit maps without a float32 copy.

    TensorFlow's mean of a float16/bfloat16 tensor accumulates in float32 and
    rounds the result once (its error over a 56 x 56 map was one bfloat16 unit,
    as the cast-compute-cast path's), so the mean is taken directly.
    """

    def call(self, inputs):
        if (
            self.compute_dtype not in _SIXTEEN_BIT
            or keras.backend.backend() != "tensorflow"
            or self.data_format != "channels_last"
        ):
            return super().call(inputs)
        import tensorflow as tf

        return tf.reduce_mean(
            ops.cast(inputs, self.compute_dtype), axis=(1, 2), keepdims=self.keepdims
        )
