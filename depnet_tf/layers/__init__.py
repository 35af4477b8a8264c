"""The custom Keras layers of DepNet; all are registered for `.keras` saving."""

from depnet_tf.layers.ceil_max_pool import CeilMaxPooling2D
from depnet_tf.layers.channel_max_pool import ChannelMaxPool
from depnet_tf.layers.feature_aggregation import FeatureAggregation
from depnet_tf.layers.mixed_normalization import (
    MixedBatchNormalization,
    MixedGlobalAveragePooling2D,
)
from depnet_tf.layers.per_frame import PerFrame
from depnet_tf.layers.preprocessing import BGRMeanSubtraction, preprocess_input

__all__ = [
    "BGRMeanSubtraction",
    "CeilMaxPooling2D",
    "ChannelMaxPool",
    "FeatureAggregation",
    "MixedBatchNormalization",
    "MixedGlobalAveragePooling2D",
    "PerFrame",
    "preprocess_input",
]
