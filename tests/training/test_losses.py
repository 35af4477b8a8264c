import keras
import numpy as np

from depnet_tf.training import EuclideanLoss


def test_is_half_the_mean_squared_error():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(7, 1)), rng.normal(size=(7, 1))
    ours = float(EuclideanLoss()(y, p))
    assert np.isclose(ours, 0.5 * float(keras.losses.MeanSquaredError()(y, p)), rtol=1e-6)
    assert np.isclose(ours, np.sum((p - y) ** 2) / (2 * len(y)), rtol=1e-6)


def test_serializable():
    loss = EuclideanLoss()
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(clone, EuclideanLoss)
