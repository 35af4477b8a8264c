import numpy as np
import pytest

from depnet_tf import SENet50
from depnet_tf.backbones.senet50 import SENet50Backbone
from tests.harness import POLICIES, LayerHarness, parameterized
from tests.roundtrip import assert_config_roundtrip, assert_keras_file_roundtrip


def keras_vggface_layer_names():
    """Every weighted layer name of keras-vggface's SENET50 (its models.py), with '/'."""
    names = ["conv1/7x7_s2", "conv1/7x7_s2/bn"]
    for stage, blocks in zip(range(2, 6), (3, 4, 6, 3)):
        for block in range(1, blocks + 1):
            prefix = f"conv{stage}_{block}"
            for suffix in ("1x1_reduce", "3x3", "1x1_increase"):
                names += [f"{prefix}_{suffix}", f"{prefix}_{suffix}/bn"]
            names += [f"{prefix}_1x1_down", f"{prefix}_1x1_up"]
            if block == 1:
                names += [f"{prefix}_1x1_proj", f"{prefix}_1x1_proj/bn"]
    return names


@pytest.mark.large
def test_parameter_counts_equal_keras_vggface():
    assert SENet50().count_params() == 26_092_144
    assert SENet50(include_top=True).count_params() == 43_777_063


@pytest.mark.large
@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({}, (None, 7, 7, 2048)),
        ({"pooling": "avg"}, (None, 2048)),
        ({"pooling": "max"}, (None, 2048)),
        ({"include_top": True}, (None, 8631)),
        ({"stem": "caffe"}, (None, 7, 7, 2048)),
    ],
)
def test_output_shapes_at_224(kwargs, shape):
    assert SENet50(**kwargs).output_shape == shape


def test_stems_differ_where_the_releases_differ():
    vgg = SENet50(input_shape=(224, 224, 3))
    caffe = SENet50(input_shape=(224, 224, 3), stem="caffe")
    assert vgg.get_layer("pool1").output.shape[1:3] == (55, 55)
    assert caffe.get_layer("pool1").output.shape[1:3] == (56, 56)
    assert vgg.get_layer("conv1_7x7_s2").padding == "same"
    assert caffe.get_layer("conv1_7x7_s2_pad").padding == ((3, 3), (3, 3))
    assert vgg.get_layer("conv2_1_1x1_reduce_bn").epsilon == 1e-4
    assert caffe.get_layer("conv2_1_1x1_reduce_bn").epsilon == 1e-5


def test_layer_names_are_keras_vggface_names_with_underscores():
    model = SENet50(input_shape=(32, 32, 3), include_top=True)
    weighted = {layer.name for layer in model.layers if layer.weights}
    expected = {name.replace("/", "_") for name in keras_vggface_layer_names()} | {"classifier"}
    assert weighted == expected


def test_topology_details_of_keras_vggface():
    model = SENet50(input_shape=(64, 64, 3))
    # Stride on the 1x1 reduce and proj convolutions, not on the 3x3.
    assert model.get_layer("conv3_1_1x1_reduce").strides == (2, 2)
    assert model.get_layer("conv3_1_1x1_proj").strides == (2, 2)
    assert model.get_layer("conv3_1_3x3").strides == (1, 1)
    # Main-path convolutions have no bias; the SE convolutions have one.
    assert not model.get_layer("conv3_1_3x3").use_bias
    assert model.get_layer("conv3_1_1x1_down").use_bias
    assert model.get_layer("conv3_1_1x1_down").filters == 512 // 16
    assert model.get_layer("conv5_3_1x1_up").filters == 2048


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"stem": "torch"}, "stem='torch'"),
        ({"input_shape": (16, 16, 3)}, r"at least 32x32. Received: input_shape=\(16, 16, 3\)"),
        ({"input_shape": (32, 32)}, r"\(height, width, 3\)"),
        ({"pooling": "sum"}, "pooling='sum'"),
        ({"input_shape": (None, None, 3), "stem": "caffe"}, "fixed input size"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SENet50(**kwargs)


@pytest.mark.parametrize("stem", ["vggface", "caffe"])
def test_roundtrips(stem, tmp_path):
    model = SENet50(input_shape=(32, 32, 3), pooling="avg", stem=stem)
    clone = assert_config_roundtrip(model)
    assert clone.stem == stem and clone.count_params() == model.count_params()
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    assert_keras_file_roundtrip(model, x, tmp_path)


class SENet50HarnessTest(LayerHarness):
    """SENet50 through Keras' `run_layer_test` (32 px, one image) under each precision."""

    @parameterized.named_parameters(*POLICIES)
    def test_keras_harness(self, precision):
        self.check(
            precision,
            SENet50Backbone,
            {"input_shape": (32, 32, 3), "stem": "caffe"},
            input_shape=(1, 32, 32, 3),
            expected_output_shape=(1, 1, 1, 2048),
            run_training_check=False,  # frozen in DepNet; its training runs in the regressor's
        )
