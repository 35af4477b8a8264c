"""depnet_tf: DepNet (He et al., Int J Intell Syst 2022) in Keras 3 / TensorFlow.

Estimates the BDI-II depression score (0-63) from a face video: SE-ResNet-50
features of T sampled face frames, the Feature Aggregation Module, and a
regression head.

The public names below are imported on first use, so `import depnet_tf` (and
the `depnet` command's start-up) does not pay for TensorFlow until needed.

Importing depnet_tf asks TensorFlow for its BFC allocator on the CPU
(`TF_CPU_ALLOCATOR_USE_BFC=true`, unless the variable is already set). The
default CPU allocator hands every large buffer back to the operating system,
so each training step of the head pays page faults on its fresh 411 MB fc1
gradient; the BFC allocator keeps and reuses them. On 2 cores this makes a
head step on cached features 1.3-1.7 s -> 0.7-0.85 s. TensorFlow reads the variable
when it first allocates, so it only takes effect if depnet_tf is imported
before any tensor exists; set it to `false` to keep TensorFlow's default.
"""

import importlib
import os

os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")

__version__ = "0.1.0"

_EXPORTS = {
    "ARCHS": "depnet_tf.models",
    "DepNetConfig": "depnet_tf.models",
    "DepressionRegressor": "depnet_tf.models",
    "build_depnet": "depnet_tf.models",
    "build_model": "depnet_tf.models",
    "SENet50": "depnet_tf.models",
    "load_model": "depnet_tf.export",
    "preprocess_input": "depnet_tf.layers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'depnet_tf' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
