"""The paper's metrics (equations 6 and 7) and the per-iteration loss for early stopping."""

import keras

from depnet_tf.training.losses import euclidean_loss


def regression_metrics():
    """RMSE and MAE over the samples Keras sees (clips); `evaluation` gives per-video ones."""
    return [
        keras.metrics.RootMeanSquaredError(name="rmse"),
        keras.metrics.MeanAbsoluteError(name="mae"),
    ]


@keras.saving.register_keras_serializable(package="depnet_tf")
class IterationLoss(keras.metrics.Metric):
    """The Euclidean loss of the latest batch only, not a running mean.

    Keras reports `loss` as the mean over the epoch so far. Caffe's early stop
    (paper, section 5.2.1) watches the loss of each iteration, which this
    metric exposes to callbacks as `iter_loss`.
    """

    def __init__(self, name="iter_loss", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.value = self.add_variable(
            shape=(), initializer="zeros", name="value", aggregation="mean"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        loss = keras.ops.mean(euclidean_loss(y_true, y_pred))
        self.value.assign(keras.ops.cast(loss, self.dtype))

    def result(self):
        return self.value

    def reset_state(self):
        self.value.assign(0.0)
