"""Round trips applied to every custom layer and model: config, `.keras` file."""

import keras
import numpy as np


def assert_config_roundtrip(layer):
    """`get_config` -> `from_config` gives the same class and the same config."""
    config = layer.get_config()
    clone = layer.__class__.from_config(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == config
    return clone


def assert_keras_file_roundtrip(model, inputs, tmp_path, exact=True):
    """Save as `.keras`, reload, and get the same class and the same predictions."""
    path = tmp_path / f"{model.name}.keras"
    expected = model.predict(inputs, verbose=0)
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert type(reloaded) is type(model)
    actual = reloaded.predict(inputs, verbose=0)
    if exact:
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)
    return reloaded


def wrap_layer(layer, input_shape):
    """A functional model around one layer, so the layer can go through a `.keras` file."""
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layer(inputs), name=f"{layer.name}_model")
