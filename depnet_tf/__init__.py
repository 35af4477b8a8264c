"""depnet_tf: DepNet (He et al., Int J Intell Syst 2022) in Keras 3 / TensorFlow.

Estimates the BDI-II depression score (0-63) from a face video: SE-ResNet-50
features of T sampled face frames, the Feature Aggregation Module, and a
regression head.

The public names below are imported on first use, so `import depnet_tf` (and
the `depnet` command's start-up) does not pay for TensorFlow until needed.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "ARCHS": "depnet_tf.models",
    "DepNetConfig": "depnet_tf.models",
    "DepressionRegressor": "depnet_tf.models",
    "build_depnet": "depnet_tf.models",
    "build_model": "depnet_tf.models",
    "SENet50": "depnet_tf.backbones",
    "preprocess_input": "depnet_tf.layers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'depnet_tf' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
