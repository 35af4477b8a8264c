"""Image backbones that give DepNet its per-frame low-level features (LLF).

The classes here only build networks; `depnet_tf.SENet50(weights=...)` (in
`depnet_tf.models.backbones`) builds one and loads its weights.
"""

from depnet_tf.backbones.senet50 import SENet50Backbone

__all__ = ["SENet50Backbone"]
