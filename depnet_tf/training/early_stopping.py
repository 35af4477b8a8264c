"""Early stopping counted in iterations, as the paper did (section 5.2.1)."""

import math

import keras

from depnet_tf.constants import EARLY_STOP_ITERATIONS


class IterationEarlyStopping(keras.callbacks.Callback):
    """Stop when `monitor` has not decreased for `patience` consecutive iterations.

    The paper stops "if the loss no longer decreased in two hundred consecutive
    iterations": a count of training iterations (batches), not epochs. The
    monitored value is read from the logs at the end of every training batch;
    use the `IterationLoss` metric (`iter_loss`) for the loss of each batch.
    The best weights are restored when training stops or ends.

    Args:
        patience: int, non-improving iterations tolerated. Defaults to 200.
        monitor: str, a key of the batch logs. Defaults to "iter_loss".
        min_delta: float, the decrease that counts as one. Defaults to 0.
        restore_best_weights: bool, defaults to True.

    Attributes:
        stopped_iteration: the iteration (0-based count of updates) it stopped at,
            or None.
        best, best_iteration: the lowest value seen and when.
    """

    def __init__(
        self,
        patience=EARLY_STOP_ITERATIONS,
        monitor="iter_loss",
        min_delta=0.0,
        restore_best_weights=True,
    ):
        super().__init__()
        if int(patience) != patience or patience < 1:
            raise ValueError(
                f"`patience` must be a positive integer. Received: patience={patience}"
            )
        self.patience = int(patience)
        self.monitor = monitor
        self.min_delta = float(min_delta)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None):
        self.iteration = 0
        self.wait = 0
        self.best = math.inf
        self.best_iteration = None
        self.best_weights = None
        self.stopped_iteration = None

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"IterationEarlyStopping monitors {self.monitor!r}, which the batch logs do not "
                f"have. Available: {sorted(logs)}. Add depnet_tf.training.IterationLoss() to "
                "the compiled metrics for 'iter_loss'."
            )
        value = float(logs[self.monitor])
        if value < self.best - self.min_delta:
            self.best = value
            self.best_iteration = self.iteration
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_iteration = self.iteration
                self.model.stop_training = True
        self.iteration += 1

    _STATE = ("iteration", "wait", "best", "best_iteration", "stopped_iteration")

    def get_state(self):
        """Progress as plain values (the best weights apart), for resuming a run."""
        return {name: getattr(self, name) for name in self._STATE}

    def set_state(self, state, best_weights=None):
        for name in self._STATE:
            setattr(self, name, state[name])
        self.best_weights = best_weights

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
