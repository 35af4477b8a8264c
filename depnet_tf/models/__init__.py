"""DepNet and the paper's comparison models, their architecture table and builders."""

from depnet_tf.models.backbones import SENet50
from depnet_tf.models.config import DepNetConfig
from depnet_tf.models.registry import ARCHS, REGISTRY, SEQUENCE_ARCHS, Architecture, architecture
from depnet_tf.models.regressor import DepressionRegressor, build_depnet, build_model

__all__ = [
    "ARCHS",
    "REGISTRY",
    "SEQUENCE_ARCHS",
    "Architecture",
    "DepNetConfig",
    "DepressionRegressor",
    "SENet50",
    "architecture",
    "build_depnet",
    "build_model",
]
