import keras
import pytest

from depnet_tf.training import CaffeInverseDecay


@pytest.mark.parametrize("iteration", [0, 1, 10, 1_000, 100_000])
def test_equals_caffe_inv_policy(iteration):
    schedule = CaffeInverseDecay(1e-5, 1e-4, 0.75)
    expected = 1e-5 * (1 + 1e-4 * iteration) ** -0.75
    assert float(schedule(iteration)) == pytest.approx(expected, rel=1e-6)


def test_defaults_are_the_papers():
    schedule = CaffeInverseDecay()
    assert (schedule.base_lr, schedule.gamma, schedule.power) == (1e-5, 1e-4, 0.75)


def test_serializable():
    schedule = CaffeInverseDecay(0.1, 0.5, 2.0)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(clone, CaffeInverseDecay) and clone.get_config() == schedule.get_config()


def test_bad_values():
    with pytest.raises(ValueError, match="gamma=-1"):
        CaffeInverseDecay(gamma=-1)
