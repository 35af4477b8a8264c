"""Training as in the paper (section 5.2.1), through plain `model.compile` / `model.fit`."""

from depnet_tf.training.callbacks import PerVideoValidation, StopOnNaN, SyncEpochClock
from depnet_tf.training.early_stopping import IterationEarlyStopping
from depnet_tf.training.losses import EuclideanLoss, euclidean_loss
from depnet_tf.training.metrics import IterationLoss, regression_metrics
from depnet_tf.training.optimizer import CaffeSGD
from depnet_tf.training.schedule import CaffeInverseDecay

__all__ = [
    "CaffeInverseDecay",
    "CaffeSGD",
    "EuclideanLoss",
    "IterationEarlyStopping",
    "IterationLoss",
    "PerVideoValidation",
    "StopOnNaN",
    "SyncEpochClock",
    "euclidean_loss",
    "regression_metrics",
]
