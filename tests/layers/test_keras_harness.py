"""Every custom layer through Keras' `run_layer_test`, under each precision."""

import keras
import numpy as np

from depnet_tf.layers import (
    BGRMeanSubtraction,
    CeilMaxPooling2D,
    ChannelMaxPool,
    FeatureAggregation,
    PerFrame,
)
from tests.harness import POLICIES, LayerHarness, parameterized

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
