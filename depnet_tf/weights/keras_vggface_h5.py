"""Reader for keras-vggface's legacy (Keras 2) HDF5 weight files.

Keras 2 `save_weights` writes one group per layer, listed in the root attribute
`layer_names`; each group lists its datasets in the attribute `weight_names`,
in the layer's weight order (kernel, bias; gamma, beta, moving mean, moving
variance). keras-vggface's layer names contain "/", which HDF5 stores as nested
groups (`conv1/7x7_s2/bn` sits inside `conv1/7x7_s2`). A file written by
`model.save()` keeps the same layout under a `model_weights` group.
"""

import numpy as np

from depnet_tf.errors import WeightsError

STEM = "vggface"


def read_attribute_list(group, name):
    """A string-list attribute, re-joined if Keras chunked it (`name0`, `name1`, ...)."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, chunk = [], 0
        while f"{name}{chunk}" in group.attrs:
            values.extend(group.attrs[f"{name}{chunk}"])
            chunk += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def is_legacy_keras(h5file):
    root = h5file["model_weights"] if "model_weights" in h5file else h5file
    return "layer_names" in root.attrs or "layer_names0" in root.attrs


def read_keras_vggface_h5(h5file, path):
    """Map an open legacy HDF5 file to {our layer name: [arrays in Keras order]}.

    Our layer names are keras-vggface's with "/" replaced by "_". Layers that
    list no weights (activations, pools) are skipped.
    """
    root = h5file["model_weights"] if "model_weights" in h5file else h5file
    tensors = {}
    for layer_name in read_attribute_list(root, "layer_names"):
        if layer_name not in root:
            raise WeightsError(f"{path}: layer {layer_name!r} is listed but has no group")
        group = root[layer_name]
        weight_names = read_attribute_list(group, "weight_names")
        if not weight_names:
            continue
        try:
            arrays = [np.asarray(group[weight_name]) for weight_name in weight_names]
        except KeyError as error:
            raise WeightsError(f"{path}: layer {layer_name!r}: missing dataset ({error})") from None
        tensors[layer_name.replace("/", "_")] = arrays
    return tensors
