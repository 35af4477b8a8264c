"""Loading the VGGFace2 SE-ResNet-50 weights users already have (paper, section 4.1)."""

from depnet_tf.errors import WeightsError
from depnet_tf.weights.assign import LoadReport
from depnet_tf.weights.convert import convert_weights, inspect_weights
from depnet_tf.weights.loader import cached_vggface2, load_vggface2, read_weights, resolve_vggface2

__all__ = [
    "LoadReport",
    "WeightsError",
    "cached_vggface2",
    "convert_weights",
    "inspect_weights",
    "load_vggface2",
    "read_weights",
    "resolve_vggface2",
]
