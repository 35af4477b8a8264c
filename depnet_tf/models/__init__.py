"""DepNet and the paper's comparison models."""

from depnet_tf.models.config import DepNetConfig
from depnet_tf.models.regressor import (
    ARCHS,
    SEQUENCE_ARCHS,
    DepressionRegressor,
    build_depnet,
    build_model,
)

__all__ = [
    "ARCHS",
    "SEQUENCE_ARCHS",
    "DepNetConfig",
    "DepressionRegressor",
    "build_depnet",
    "build_model",
]
