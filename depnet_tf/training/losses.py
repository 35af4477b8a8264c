"""Caffe's Euclidean loss (paper, section 4.1, equation 5)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="depnet_tf")
def euclidean_loss(y_true, y_pred):
    """Per-sample half squared error: 1/2 ||y_pred - y||^2 (summed over the outputs)."""
    y_true = ops.cast(y_true, y_pred.dtype)
    return 0.5 * ops.sum(ops.square(y_pred - y_true), axis=-1)


@keras.saving.register_keras_serializable(package="depnet_tf")
class EuclideanLoss(keras.losses.Loss):
    """L = 1/(2N) * sum_i ||p_hat_i - p_i||^2, Caffe's `EuclideanLoss` layer.

    The paper trains DepNet with it (equation 5). For one output it is half of
    Keras' mean squared error, which halves the gradients too, so it matters
    for reproducing the paper's learning rate.

    Examples:
    >>> import numpy as np
    >>> float(EuclideanLoss()(np.array([[1.0], [3.0]]), np.array([[2.0], [5.0]])))
    1.25
    """

    def __init__(self, name="euclidean_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return euclidean_loss(y_true, y_pred)
