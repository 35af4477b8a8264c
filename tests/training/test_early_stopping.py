import keras
import numpy as np
import pytest

from depnet_tf.training import EuclideanLoss, IterationEarlyStopping, IterationLoss


class Recorder(keras.callbacks.Callback):
    """The weights before each update and the loss `fit` reported for it (test-side copies)."""

    def on_train_begin(self, logs=None):
        self.before = []
        self.losses = []

    def on_train_batch_begin(self, batch, logs=None):
        self.before.append(self.model.get_weights())

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["iter_loss"]))


class DownThenUp(keras.optimizers.schedules.LearningRateSchedule):
    """Descend for `turn` updates, then ascend: the best loss is in the middle."""

    def __init__(self, turn, rate=0.05):
        self.turn, self.rate = turn, rate

    def __call__(self, step):
        return keras.ops.where(step < self.turn, self.rate, -self.rate)


def fixed_batches(repeats=5):
    rng = np.random.default_rng(0)
    # Every batch holds the same 8 samples, so only the weights change the loss.
    x = np.tile(rng.normal(size=(8, 2)), (repeats, 1)).astype("float32")
    y = np.tile(rng.normal(size=(8, 1)), (repeats, 1)).astype("float32")
    return x, y


def batch_loss(model, x, y):
    """The Euclidean loss of `model` on one batch, computed here, independently of Keras."""
    prediction = model.predict(x[:8], verbose=0)
    return float(np.sum((prediction - y[:8]) ** 2) / (2 * 8))


def linear_model(learning_rate, jit_compile="auto"):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss=EuclideanLoss(),
        metrics=[IterationLoss()],
        jit_compile=jit_compile,
    )
    return model


def test_fires_after_exactly_patience_non_improving_iterations_and_restores_best():
    x, y = fixed_batches()
    model = linear_model(-0.01)  # gradient ascent: every update makes the loss worse
    initial = model.get_weights()
    stopper = IterationEarlyStopping(patience=200)
    recorder = Recorder()
    model.fit(
        x, y, batch_size=8, epochs=100, shuffle=False, verbose=0, callbacks=[stopper, recorder]
    )
    # Iteration 0 is the best; iterations 1..200 do not improve; it stops at 200.
    assert stopper.best_iteration == 0
    assert stopper.stopped_iteration == 200
    assert len(recorder.losses) == 201  # 5 batches per epoch: it stopped mid-epoch 41
    # Iteration 0's loss was computed with the initial weights, before its update:
    # those are the weights to restore (not the ones after the update).
    for restored, best in zip(model.get_weights(), initial):
        np.testing.assert_array_equal(restored, best)
    assert batch_loss(model, x, y) == pytest.approx(recorder.losses[0], rel=1e-6)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_the_restored_weights_give_the_best_loss(jit_compile):
    x, y = fixed_batches()
    model = linear_model(DownThenUp(turn=12), jit_compile)
    stopper = IterationEarlyStopping(patience=20)
    recorder = Recorder()
    model.fit(
        x, y, batch_size=8, epochs=20, shuffle=False, verbose=0, callbacks=[stopper, recorder]
    )
    best = int(np.argmin(recorder.losses))
    assert best == 12  # 12 descending updates, then every one makes it worse
    assert stopper.best_iteration == best and stopper.stopped_iteration == best + 20
    assert stopper.best == pytest.approx(recorder.losses[best], rel=1e-7)
    for restored, before in zip(model.get_weights(), recorder.before[best]):
        np.testing.assert_array_equal(restored, before)  # the weights that gave that loss
    assert batch_loss(model, x, y) == pytest.approx(min(recorder.losses), rel=1e-6)


def test_only_improvements_are_copied():
    x, y = fixed_batches()
    model = linear_model(DownThenUp(turn=3))
    stopper = IterationEarlyStopping(patience=4)
    model.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0, callbacks=[stopper])
    # The captured copy holds the trainable variables only, once.
    assert len(stopper.best_weights) == len(model.trainable_variables)
    assert stopper.best_iteration == 3


def test_iteration_loss_is_the_last_batch_not_the_running_mean():
    x = np.zeros((4, 2), "float32")
    y = np.array([[0.0], [0.0], [2.0], [2.0]], "float32")
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="zeros")(inputs))
    model.compile(
        optimizer=keras.optimizers.SGD(0.0), loss=EuclideanLoss(), metrics=[IterationLoss()]
    )
    seen = []
    log = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(dict(logs)))
    model.fit(x, y, batch_size=2, shuffle=False, verbose=0, callbacks=[log])
    assert [round(float(s["iter_loss"]), 6) for s in seen] == [0.0, 2.0]
    assert round(float(seen[1]["loss"]), 6) == 1.0  # Keras' running mean
