"""From face videos to training clips: faces, manifests, clip datasets and the feature cache."""

from depnet_tf.data.cache import (
    build_cache,
    cache_spec,
    check_cache,
    feature_dataset,
    verify_cache,
)
from depnet_tf.data.clips import clip_dataset
from depnet_tf.data.manifest import Manifest
from depnet_tf.errors import DataError

__all__ = [
    "DataError",
    "Manifest",
    "build_cache",
    "cache_spec",
    "check_cache",
    "clip_dataset",
    "feature_dataset",
    "verify_cache",
]
