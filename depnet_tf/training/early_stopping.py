"""Early stopping counted in iterations, as the paper did (section 5.2.1)."""

import math

import keras
import numpy as np
import tensorflow as tf

from depnet_tf.constants import EARLY_STOP_ITERATIONS
from depnet_tf.training.losses import euclidean_loss


class IterationEarlyStopping(keras.callbacks.Callback):
    """Stop when the batch loss has not decreased for `patience` consecutive iterations.

    The paper stops "if the loss no longer decreased in two hundred consecutive
    iterations": a count of training iterations (batches), not epochs, of the
    Euclidean loss of each batch (as `IterationLoss` reports it, `iter_loss`).

    A batch's loss is computed with the weights *before* that batch's update;
    `on_train_batch_end` only sees the weights after it. So the best weights are
    captured inside the compiled train step, between the loss and the update:
    when a batch's loss is a new best, the trainable variables are copied (on
    the device, into variables of the same shapes) before the optimizer changes
    them. Nothing is copied on the other iterations, and only the trainable
    variables ever are (the frozen backbone never changes). When training stops
    or ends, those weights are restored: the model then gives exactly the best
    batch loss on that batch.

    Args:
        patience: int, non-improving iterations tolerated. Defaults to 200.
        min_delta: float, the decrease that counts as one. Defaults to 0.
        restore_best_weights: bool, defaults to True.

    Attributes:
        stopped_iteration: the iteration (0-based count of updates) it stopped at,
            or None.
        best, best_iteration: the lowest batch loss seen and when.
    """

    def __init__(self, patience=EARLY_STOP_ITERATIONS, min_delta=0.0, restore_best_weights=True):
        super().__init__()
        if int(patience) != patience or patience < 1:
            raise ValueError(
                f"`patience` must be a positive integer. Received: patience={patience}"
            )
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.restore_best_weights = restore_best_weights
        self._watched = None  # the model whose train step captures the best weights

    # --- The capture inside the train step -----------------------------------------
    def set_model(self, model):
        super().set_model(model)
        if self._watched is not model:
            self._watch(model)

    def _watch(self, model):
        """Wrap `model.compute_loss` so the train step captures the best weights."""
        with model.distribute_strategy.scope():
            # Each replica keeps its own copy (sync on read: an assignment inside the
            # step's `tf.cond` needs no cross-replica call, which TensorFlow does not
            # allow there). The copies agree: the loss is all-reduced before the
            # decision, and the trainable variables are mirrored. Reads take the first.
            options = dict(
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
            self._best_loss = tf.Variable(math.inf, dtype=tf.float32, **options)
            self._improved = tf.Variable(False, **options)
            self._best_vars = [
                tf.Variable(tf.zeros(v.shape, v.dtype), **options)
                for v in model.trainable_variables
            ]
        compute_loss = model.compute_loss

        def compute_loss_and_capture(x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
            loss = compute_loss(x, y, y_pred, sample_weight, **kwargs)
            if kwargs.get("training", True):
                self._capture(model, y, y_pred)
            return loss

        model.compute_loss = compute_loss_and_capture
        model.train_function = None  # traced again, with the capture
        self._watched = model

    def _capture(self, model, y, y_pred):
        value = tf.cast(tf.reduce_mean(euclidean_loss(y, y_pred)), tf.float32)
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            value = context.all_reduce(tf.distribute.ReduceOp.MEAN, value)
        improved = value < self._best_loss - self.min_delta

        def copy():
            for best, variable in zip(self._best_vars, model.trainable_variables):
                best.assign(variable)
            self._best_loss.assign(value)
            return tf.constant(True)

        self._improved.assign(tf.cond(improved, copy, lambda: tf.constant(False)))

    # --- Counting iterations --------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.iteration = 0
        self.wait = 0
        self.best = math.inf
        self.best_iteration = None
        self.stopped_iteration = None
        self._best_loss.assign(math.inf)

    def on_train_batch_end(self, batch, logs=None):
        if bool(self._improved.numpy()):
            self.best = float(self._best_loss.numpy())
            self.best_iteration = self.iteration
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_iteration = self.iteration
                self.model.stop_training = True
        self.iteration += 1

    @property
    def best_weights(self):
        """The trainable weights that gave the best batch loss (NumPy arrays), or None."""
        if self.best_iteration is None:
            return None
        return [np.asarray(v.numpy()) for v in self._best_vars]

    _STATE = ("iteration", "wait", "best", "best_iteration", "stopped_iteration")

    def get_state(self):
        """Progress as plain values (the best weights apart), for resuming a run."""
        return {name: getattr(self, name) for name in self._STATE}

    def set_state(self, state, best_weights=None):
        """Restore `get_state()`'s values and the best weights a resumed run had kept.

        Best weights of another layout (an older version's copy of every weight)
        are dropped: the run then keeps its weights at the end instead.
        """
        for name in self._STATE:
            setattr(self, name, state[name])
        if best_weights is not None and len(best_weights) == len(self._best_vars):
            for variable, value in zip(self._best_vars, best_weights):
                variable.assign(value)
            self._best_loss.assign(self.best)
        else:
            self.best_iteration = None
            self._best_loss.assign(self.best if self.best is not None else math.inf)

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_iteration is not None:
            for variable, best in zip(self.model.trainable_variables, self._best_vars):
                variable.assign(best)
