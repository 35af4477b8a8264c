"""Every custom layer through Keras' `run_layer_test`, under each precision."""

import keras
import numpy as np
import pytest

from depnet_tf.layers import (
    BGRMeanSubtraction,
    CeilMaxPooling2D,
    ChannelMaxPool,
    FeatureAggregation,
    MixedBatchNormalization,
    MixedGlobalAveragePooling2D,
    PerFrame,
)
from tests.harness import POLICIES, LayerHarness, parameterized
from tests.roundtrip import assert_keras_file_roundtrip, wrap_layer

RNG = np.random.default_rng(0)


class KerasHarnessTest(LayerHarness):
    @parameterized.named_parameters(*POLICIES)
    def test_bgr_mean_subtraction(self, precision):
        rgb = RNG.integers(0, 256, (2, 3, 4, 4, 3)).astype("float32")
        # keras-vggface's version-2 preprocessing, written out: B - 91.4953, G - 103.8827,
        # R - 131.0912, in BGR order.
        expected = np.stack(
            [rgb[..., 2] - 91.4953, rgb[..., 1] - 103.8827, rgb[..., 0] - 131.0912], axis=-1
        )
        self.check(
            precision,
            BGRMeanSubtraction,
            {},
            input_data=rgb,
            expected_output=expected.astype("float32"),
            expected_output_shape=(2, 3, 4, 4, 3),
            expected_num_trainable_weights=0,
            run_training_check=False,  # no weights; its only gradient is the identity
        )

    @parameterized.named_parameters(*POLICIES)
    def test_ceil_max_pooling(self, precision):
        x = RNG.normal(size=(2, 8, 8, 3)).astype("float32")
        # Caffe's ceil mode: windows start at 0, 2, 4, 6 and the last one is cut at the edge.
        expected = np.stack(
            [
                np.stack([x[:, i : i + 3, j : j + 3].max(axis=(1, 2)) for j in (0, 2, 4, 6)], 1)
                for i in (0, 2, 4, 6)
            ],
            1,
        )
        self.check(
            precision,
            CeilMaxPooling2D,
            {"pool_size": 3, "strides": 2},
            input_data=x,
            expected_output=expected,
            expected_output_shape=(2, 4, 4, 3),
            expected_num_trainable_weights=0,
        )

    @parameterized.named_parameters(*POLICIES)
    def test_channel_max_pool(self, precision):
        x = RNG.normal(size=(2, 3, 2, 2, 8)).astype("float32")
        expected = np.stack([x[..., 0:4].max(-1), x[..., 4:8].max(-1)], axis=-1)
        self.check(
            precision,
            ChannelMaxPool,
            {"pool_size": 4},
            input_data=x,
            expected_output=expected,
            expected_output_shape=(2, 3, 2, 2, 2),
            expected_num_trainable_weights=0,
        )

    @parameterized.named_parameters(*POLICIES)
    def test_feature_aggregation(self, precision):
        self.check(
            precision,
            FeatureAggregation,
            {"kernel_sizes": (3, 5), "branch_filters": 2, "hlf_channels": 4},
            input_shape=(2, 5, 6),
            expected_output_shape=(2, 1, 6, 4),
            expected_num_trainable_weights=6,  # two k x 1 convs and the 1x1, kernel + bias each
            expected_num_non_trainable_weights=0,
        )

    @parameterized.named_parameters(*POLICIES)
    def test_per_frame_reports_the_wrapped_layers_dtype(self, precision):
        # The wrapped layer keeps its own policy whatever the global one is; the
        # wrapper's symbolic output must carry that layer's dtype, as its eager one does.
        inner = "mixed_bfloat16" if precision == "float32" else "float32"
        self.check(
            precision,
            PerFrame,
            {"layer": keras.layers.Dense(4, dtype=inner)},
            input_shape=(2, 3, 5),
            output_dtype=keras.DTypePolicy(inner).compute_dtype,
            expected_output_shape=(2, 3, 4),
            expected_num_trainable_weights=2,
        )

    @parameterized.named_parameters(*POLICIES)
    def test_mixed_batch_normalization(self, precision):
        self.check(
            precision,
            MixedBatchNormalization,
            {"epsilon": 1e-5},
            input_shape=(2, 4, 4, 3),
            expected_output_shape=(2, 4, 4, 3),
            expected_num_trainable_weights=2,
            expected_num_non_trainable_weights=2,
        )

    @parameterized.named_parameters(*POLICIES)
    def test_mixed_global_average_pooling(self, precision):
        x = RNG.normal(size=(2, 5, 5, 3)).astype("float32")
        self.check(
            precision,
            MixedGlobalAveragePooling2D,
            {"keepdims": True},
            input_data=x,
            expected_output=x.mean(axis=(1, 2), keepdims=True),
            expected_output_shape=(2, 1, 1, 3),
        )


def test_16_bit_paths_compute_keras_functions():
    """Without a float32 copy, the same numbers as Keras' layers up to one 16-bit rounding."""
    rng = np.random.default_rng(1)
    x = rng.normal(2.0, 3.0, (2, 6, 6, 4)).astype("float32")
    # On the bfloat16 grid (so also float16's here): only the outputs are rounded.
    x = keras.ops.convert_to_numpy(keras.ops.cast(keras.ops.cast(x, "bfloat16"), "float32"))
    for precision, unit in (("mixed_bfloat16", 2.0**-8), ("mixed_float16", 2.0**-11)):
        ours = MixedBatchNormalization(epsilon=1e-3, dtype=precision)
        keras_bn = keras.layers.BatchNormalization(epsilon=1e-3, dtype=precision)
        for layer in (ours, keras_bn):
            layer.build(x.shape)
            layer.set_weights(
                [np.array(v, "float32") for v in ([1.5] * 4, [0.3] * 4, [1.0] * 4, [4.0] * 4)]
            )
        # Inference, written out: gamma * (x - mean) / sqrt(var + eps) + beta.
        expected = 1.5 * (x - 1.0) / np.sqrt(4.0 + 1e-3) + 0.3
        got = keras.ops.convert_to_numpy(ours(x)).astype("float32")
        np.testing.assert_allclose(got, expected, atol=2 * unit * np.abs(expected).max())
        for training in (False, True):  # training (batch statistics) is Keras' own path
            a = keras.ops.convert_to_numpy(ours(x, training=training)).astype("float32")
            b = keras.ops.convert_to_numpy(keras_bn(x, training=training)).astype("float32")
            np.testing.assert_allclose(a, b, atol=2 * unit * np.abs(b).max())
        pooled = MixedGlobalAveragePooling2D(dtype=precision)(x)
        assert (
            keras.ops.convert_to_numpy(pooled).dtype == keras.DTypePolicy(precision).compute_dtype
        )
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(pooled).astype("float32"),
            x.mean(axis=(1, 2)),
            atol=2 * unit * np.abs(x).max(),
        )


LAYERS = {
    "bgr_mean_subtraction": (lambda: BGRMeanSubtraction(), (3, 4, 4, 3)),
    "ceil_max_pooling": (lambda: CeilMaxPooling2D(3, 2), (8, 8, 3)),
    "channel_max_pool": (lambda: ChannelMaxPool(4), (3, 2, 2, 8)),
    "feature_aggregation": (lambda: FeatureAggregation((3,), 2, 4), (5, 6)),
    "per_frame": (lambda: PerFrame(keras.layers.Dense(4)), (3, 5)),
    "mixed_batch_normalization": (lambda: MixedBatchNormalization(), (4, 4, 3)),
    "mixed_global_average_pooling": (lambda: MixedGlobalAveragePooling2D(), (4, 4, 3)),
}


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_a_keras_file_keeps_each_layer_and_its_policy(name, precision, tmp_path):
    make, shape = LAYERS[name]
    keras.config.set_dtype_policy(precision)
    try:
        model = wrap_layer(make(), shape)
    finally:
        keras.config.set_dtype_policy("float32")
    x = np.random.default_rng(0).uniform(0, 255, (2, *shape)).astype("float32")
    reloaded = assert_keras_file_roundtrip(model, x, tmp_path)
    assert reloaded.layers[-1].dtype_policy.name == precision
