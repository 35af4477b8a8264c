import keras
import numpy as np

from depnet_tf.layers import PerFrame
from tests.roundtrip import assert_keras_file_roundtrip, wrap_layer


def test_equals_running_the_layer_on_each_frame():
    inner = keras.layers.Conv2D(4, 3, name="conv")
    layer = PerFrame(inner, name="frames")
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 6, 2)).astype("float32")
    out = np.asarray(layer(x))
    assert out.shape == (2, 3, 4, 4, 4) == layer.compute_output_shape(x.shape)
    for t in range(3):
        np.testing.assert_allclose(out[:, t], inner(x[:, t]), rtol=1e-6, atol=1e-6)


def test_keras_file_roundtrip_with_nested_model(tmp_path):
    inputs = keras.Input((5, 5, 2))
    inner = keras.Model(inputs, keras.layers.Conv2D(3, 3)(inputs), name="inner")
    x = np.random.default_rng(1).normal(size=(2, 4, 5, 5, 2)).astype("float32")
    assert_keras_file_roundtrip(wrap_layer(PerFrame(inner, name="pf"), (4, 5, 5, 2)), x, tmp_path)
