import numpy as np
import pytest

from depnet_tf.layers import ChannelMaxPool
from tests.roundtrip import assert_config_roundtrip, assert_keras_file_roundtrip, wrap_layer


def reference(x, pool):
    # Caffe-style pooling along channels: kernel = stride = pool, no padding.
    channels = x.shape[-1]
    out = np.empty(x.shape[:-1] + (channels // pool,), x.dtype)
    for group in range(channels // pool):
        out[..., group] = x[..., group * pool : (group + 1) * pool].max(axis=-1)
    return out


@pytest.mark.parametrize("pool", [1, 4, 8])
def test_matches_numpy_reference(pool):
    x = np.random.default_rng(pool).normal(size=(2, 3, 2, 2, 32)).astype("float32")
    layer = ChannelMaxPool(pool)
    out = np.asarray(layer(x))
    np.testing.assert_array_equal(out, reference(x, pool))
    assert out.shape == layer.compute_output_shape(x.shape)


def test_paper_dimensions():
    layer = ChannelMaxPool(8)
    assert layer.compute_output_shape((None, 5, 7, 7, 2048)) == (None, 5, 7, 7, 256)


def test_errors_name_the_values():
    with pytest.raises(ValueError, match="pool_size=3 for 32 channels"):
        ChannelMaxPool(3)(np.zeros((1, 2, 32), "float32"))
    with pytest.raises(ValueError, match="pool_size=0"):
        ChannelMaxPool(0)


def test_roundtrips(tmp_path):
    layer = ChannelMaxPool(4, name="cmp")
    assert assert_config_roundtrip(layer).pool_size == 4
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 16)).astype("float32")
    assert_keras_file_roundtrip(wrap_layer(layer, (3, 3, 16)), x, tmp_path)
