import math

import numpy as np
import pytest

from depnet_tf.layers import CeilMaxPooling2D
from tests.roundtrip import assert_config_roundtrip, assert_keras_file_roundtrip, wrap_layer


def reference(x, pool, stride):
    # PyTorch MaxPool2d(pool, stride, padding=0, ceil_mode=True), written out.
    _, height, width, _ = x.shape
    out_h = math.ceil((height - pool) / stride) + 1
    out_w = math.ceil((width - pool) / stride) + 1
    out = np.empty((x.shape[0], out_h, out_w, x.shape[3]), x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, i * stride : i * stride + pool, j * stride : j * stride + pool]
            out[:, i, j] = window.max(axis=(1, 2))
    return out


@pytest.mark.parametrize("size", [7, 8, 11, 112])
def test_matches_ceil_mode_reference(size):
    x = np.random.default_rng(size).normal(size=(2, size, size + 1, 3)).astype("float32")
    layer = CeilMaxPooling2D(3, 2)
    out = np.asarray(layer(x))
    np.testing.assert_array_equal(out, reference(x, 3, 2))
    assert out.shape == layer.compute_output_shape(x.shape)


def test_vggface2_stem_size():
    assert CeilMaxPooling2D(3, 2).compute_output_shape((None, 112, 112, 64)) == (None, 56, 56, 64)


def test_roundtrips(tmp_path):
    layer = CeilMaxPooling2D(3, 2, name="pool")
    assert_config_roundtrip(layer)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 2)).astype("float32")
    assert_keras_file_roundtrip(wrap_layer(layer, (8, 8, 2)), x, tmp_path)
