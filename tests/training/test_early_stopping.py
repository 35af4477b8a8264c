import keras
import numpy as np
import pytest

from depnet_tf.training import EuclideanLoss, IterationEarlyStopping, IterationLoss


class CountBatches(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.count = 0
        self.weights_after = []

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1
        self.weights_after.append(self.model.get_weights())


def ascending_model():
    """A model whose loss rises every step (gradient ascent), so iteration 0 is best."""
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(
        optimizer=keras.optimizers.SGD(-0.01), loss=EuclideanLoss(), metrics=[IterationLoss()]
    )
    return model


def test_fires_after_exactly_patience_non_improving_iterations_and_restores_best():
    rng = np.random.default_rng(0)
    # Every batch holds the same 8 samples, so only the weights change the loss.
    x = np.tile(rng.normal(size=(8, 2)), (5, 1)).astype("float32")
    y = np.tile(rng.normal(size=(8, 1)), (5, 1)).astype("float32")
    model = ascending_model()
    stopper = IterationEarlyStopping(patience=200)
    counter = CountBatches()
    model.fit(
        x, y, batch_size=8, epochs=100, shuffle=False, verbose=0, callbacks=[stopper, counter]
    )
    # Iteration 0 is the best; iterations 1..200 do not improve; it stops at 200.
    assert stopper.best_iteration == 0
    assert stopper.stopped_iteration == 200
    assert counter.count == 201  # 5 batches per epoch: it stopped mid-epoch 41
    for restored, best in zip(model.get_weights(), counter.weights_after[0]):
        np.testing.assert_array_equal(restored, best)


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


def test_missing_monitor_is_explained():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="IterationLoss"):
        model.fit(
            np.zeros((2, 2)), np.zeros((2, 1)), verbose=0, callbacks=[IterationEarlyStopping()]
        )
