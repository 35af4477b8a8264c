"""Image backbones that give DepNet its per-frame low-level features (LLF)."""

from depnet_tf.backbones.senet50 import SENet50

__all__ = ["SENet50"]
