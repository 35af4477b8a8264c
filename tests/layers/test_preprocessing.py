import numpy as np
import pytest

from depnet_tf.layers import BGRMeanSubtraction, preprocess_input
from tests.roundtrip import assert_config_roundtrip, assert_keras_file_roundtrip, wrap_layer


def reference(x):
    # keras-vggface utils.preprocess_input(version=2), channels last, written out.
    out = np.array(x, dtype=np.float64)[..., ::-1].copy()
    out[..., 0] -= 91.4953
    out[..., 1] -= 103.8827
    out[..., 2] -= 131.0912
    return out


def test_preprocess_input_matches_keras_vggface_version_2():
    x = np.random.default_rng(0).uniform(0, 255, (2, 3, 4, 4, 3))
    np.testing.assert_allclose(preprocess_input(x), reference(x), rtol=0, atol=1e-4)


def test_preprocess_input_rejects_non_rgb():
    with pytest.raises(ValueError, match=r"x.shape=\(2, 4, 4, 1\)"):
        preprocess_input(np.zeros((2, 4, 4, 1)))


def test_layer_equals_function_and_keeps_shape():
    x = np.random.default_rng(1).uniform(0, 255, (2, 5, 4, 4, 3)).astype("float32")
    layer = BGRMeanSubtraction()
    out = np.asarray(layer(x))
    assert out.shape == x.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(out, preprocess_input(x), atol=1e-5)


def test_custom_mean_and_bad_mean():
    x = np.full((1, 1, 1, 3), 10.0, "float32")
    np.testing.assert_allclose(BGRMeanSubtraction((1, 2, 3))(x), [[[[9, 8, 7]]]])
    with pytest.raises(ValueError, match="3 BGR values"):
        BGRMeanSubtraction((1, 2))


def test_roundtrips(tmp_path):
    layer = BGRMeanSubtraction((1.0, 2.0, 3.0), name="pre")
    assert assert_config_roundtrip(layer).mean == (1.0, 2.0, 3.0)
    x = np.random.default_rng(2).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    assert_keras_file_roundtrip(wrap_layer(layer, (4, 4, 3)), x, tmp_path)
