"""Reader for the VGGFace2-pytorch pickles (`senet50_ft_weight.pkl`, `senet50_scratch_weight.pkl`).

Those files are a (Python 2, hence latin1) pickle of a dict from PyTorch
state_dict names to NumPy arrays, converted from Oxford's Caffe release. The
mapping below is a pure function from their names and layouts to ours.
"""

import pickle
import re

import numpy as np

from depnet_tf.errors import WeightsError

STEM = "caffe"

# Only what a dict of NumPy arrays needs; a pickle naming anything else is refused.
_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
}

_BLOCK = re.compile(r"layer([1-4])\.(\d+)\.(conv[1-5]|bn[1-3]|downsample\.[01])\.(\w+)$")
_CONV_SUFFIX = {
    "conv1": "1x1_reduce",
    "conv2": "3x3",
    "conv3": "1x1_increase",
    "conv4": "1x1_down",
    "conv5": "1x1_up",
    "downsample.0": "1x1_proj",
}
_BN_SUFFIX = {
    "bn1": "1x1_reduce_bn",
    "bn2": "3x3_bn",
    "bn3": "1x1_increase_bn",
    "downsample.1": "1x1_proj_bn",
}
_BN_ORDER = ("weight", "bias", "running_mean", "running_var")  # Keras: gamma, beta, mean, var
# Bookkeeping tensors of newer PyTorch versions that carry no weights.
_IGNORED = ("num_batches_tracked",)


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refers to {module}.{name}; only NumPy arrays are allowed")


def load_pickle(path):
    """Read the state dict; a file that is not a dict of arrays gets a `WeightsError`."""
    try:
        with open(path, "rb") as file:
            state = _ArraysOnlyUnpickler(file, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise WeightsError(f"{path}: not a readable weight pickle ({error})") from None
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise WeightsError(f"{path}: expected a pickled dict of name -> NumPy array")
    return state


def our_layer_name(torch_name):
    """('layer2.0.conv1.weight') -> ('conv3_1_1x1_reduce', 'weight'); None if unknown."""
    module, _, param = torch_name.rpartition(".")
    if module == "conv1":
        return "conv1_7x7_s2", param
    if module == "bn1":
        return "conv1_7x7_s2_bn", param
    if module == "fc":
        return "classifier", param
    match = _BLOCK.match(torch_name)
    if not match:
        return None
    layer, block, part, param = match.groups()
    prefix = f"conv{int(layer) + 1}_{int(block) + 1}"
    suffix = _CONV_SUFFIX.get(part) or _BN_SUFFIX[part]
    return f"{prefix}_{suffix}", param


def convert_state_dict(state, path):
    """Map a VGGFace2-pytorch state dict to {our layer name: [arrays in Keras order]}.

    Conv kernels go from OIHW to HWIO, the classifier from (out, in) to (in, out).
    Unknown names are kept (prefixed "torch:") so a strict load reports them.
    """
    grouped = {}
    for torch_name, array in state.items():
        if torch_name.endswith(_IGNORED):
            continue
        mapped = our_layer_name(torch_name)
        if mapped is None:
            grouped.setdefault(f"torch:{torch_name}", {})["value"] = array
            continue
        layer, param = mapped
        grouped.setdefault(layer, {})[param] = array
    tensors = {}
    for layer, params in grouped.items():
        if layer.startswith("torch:"):
            tensors[layer] = [params["value"]]
        elif layer.endswith("_bn"):
            missing = [p for p in _BN_ORDER if p not in params]
            if missing:
                raise WeightsError(f"{path}: batch norm {layer!r} lacks {missing}")
            tensors[layer] = [params[p] for p in _BN_ORDER]
        elif "weight" not in params:
            raise WeightsError(f"{path}: layer {layer!r} has {sorted(params)} but no weight")
        else:
            tensors[layer] = [_to_keras_layout(params["weight"])]
            if "bias" in params:
                tensors[layer].append(params["bias"])
    return tensors


def _to_keras_layout(weight):
    if weight.ndim == 4:
        return np.transpose(weight, (2, 3, 1, 0))  # OIHW -> HWIO
    if weight.ndim == 2:
        return weight.T  # Linear (out, in) -> Dense (in, out)
    return weight
