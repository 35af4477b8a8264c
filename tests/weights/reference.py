"""Independent pieces for the weight tests, written from the two releases' layouts.

- `random_state_dict`: a VGGFace2-pytorch style state dict (OIHW kernels).
- `numpy_forward`: SE-ResNet-50 in NumPy, NCHW, for either stem.
- `write_keras_vggface_h5`: the legacy Keras 2 HDF5 layout, '/' names and all.
- `write_pytorch_pickle`: the latin1-readable pickle of name -> array.

None of this imports depnet_tf, so the tests compare two separate implementations.
"""

import math
import pickle

import h5py
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

STAGES = ((1, 3, 64), (2, 4, 128), (3, 6, 256), (4, 3, 512))  # torch layer, blocks, width


def random_state_dict(seed=0, classes=None):
    rng = np.random.default_rng(seed)

    def conv(out_c, in_c, k, bias=False, prefix=""):
        std = math.sqrt(2.0 / (in_c * k * k))
        params = {f"{prefix}.weight": rng.normal(0, std, (out_c, in_c, k, k)).astype("float32")}
        if bias:
            params[f"{prefix}.bias"] = rng.normal(0, 0.1, out_c).astype("float32")
        return params

    def bn(c, prefix):
        return {
            f"{prefix}.weight": rng.uniform(0.5, 1.0, c).astype("float32"),
            f"{prefix}.bias": rng.normal(0, 0.1, c).astype("float32"),
            f"{prefix}.running_mean": rng.normal(0, 0.1, c).astype("float32"),
            f"{prefix}.running_var": rng.uniform(0.8, 1.5, c).astype("float32"),
        }

    state = {**conv(64, 3, 7, prefix="conv1"), **bn(64, "bn1")}
    in_c = 64
    for layer, blocks, width in STAGES:
        for block in range(blocks):
            p = f"layer{layer}.{block}"
            state.update(conv(width, in_c, 1, prefix=f"{p}.conv1"))
            state.update(bn(width, f"{p}.bn1"))
            state.update(conv(width, width, 3, prefix=f"{p}.conv2"))
            state.update(bn(width, f"{p}.bn2"))
            state.update(conv(4 * width, width, 1, prefix=f"{p}.conv3"))
            state.update(bn(4 * width, f"{p}.bn3"))
            state.update(conv(4 * width // 16, 4 * width, 1, bias=True, prefix=f"{p}.conv4"))
            state.update(conv(4 * width, 4 * width // 16, 1, bias=True, prefix=f"{p}.conv5"))
            if block == 0:
                state.update(conv(4 * width, in_c, 1, prefix=f"{p}.downsample.0"))
                state.update(bn(4 * width, f"{p}.downsample.1"))
            in_c = 4 * width
    if classes:
        state["fc.weight"] = rng.normal(0, 0.02, (classes, 2048)).astype("float32")
        state["fc.bias"] = rng.normal(0, 0.02, classes).astype("float32")
    return state


def conv2d(x, weight, bias=None, stride=1, pad=(0, 0, 0, 0)):
    top, bottom, left, right = pad
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    _, _, kh, kw = weight.shape
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.einsum("nchwij,ocij->nohw", windows, weight, optimize=True)
    return out if bias is None else out + bias[None, :, None, None]


def batch_norm(x, state, prefix, eps):
    scale = state[f"{prefix}.weight"] / np.sqrt(state[f"{prefix}.running_var"] + eps)
    shift = state[f"{prefix}.bias"] - state[f"{prefix}.running_mean"] * scale
    return x * scale[None, :, None, None] + shift[None, :, None, None]


def max_pool(x, k, stride, ceil_mode):
    height, width = x.shape[2:]
    extra = [0, 0]
    if ceil_mode:
        for axis, size in enumerate((height, width)):
            out = math.ceil((size - k) / stride) + 1
            extra[axis] = max((out - 1) * stride + k - size, 0)
    x = np.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])), constant_values=-np.inf)
    return sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride].max(axis=(4, 5))


def relu(x):
    return np.maximum(x, 0)


def numpy_forward(state, images_nhwc, stem):
    """The last conv map (N, H, W, 2048) of SE-ResNet-50 for preprocessed NHWC input."""
    eps = 1e-4 if stem == "vggface" else 1e-5
    x = np.transpose(images_nhwc, (0, 3, 1, 2)).astype("float64")
    if stem == "vggface":  # TensorFlow 'same': the odd pixel of padding goes after
        size = x.shape[2]
        total = max((math.ceil(size / 2) - 1) * 2 + 7 - size, 0)
        pad = (total // 2, total - total // 2) * 2
        x = conv2d(x, state["conv1.weight"], stride=2, pad=(pad[0], pad[1], pad[0], pad[1]))
    else:
        x = conv2d(x, state["conv1.weight"], stride=2, pad=(3, 3, 3, 3))
    x = relu(batch_norm(x, state, "bn1", eps))
    x = max_pool(x, 3, 2, ceil_mode=(stem == "caffe"))
    for layer, blocks, _ in STAGES:
        for block in range(blocks):
            p = f"layer{layer}.{block}"
            stride = 2 if block == 0 and layer > 1 else 1
            out = relu(
                batch_norm(
                    conv2d(x, state[f"{p}.conv1.weight"], stride=stride), state, f"{p}.bn1", eps
                )
            )
            out = relu(
                batch_norm(
                    conv2d(out, state[f"{p}.conv2.weight"], pad=(1, 1, 1, 1)),
                    state,
                    f"{p}.bn2",
                    eps,
                )
            )
            out = batch_norm(conv2d(out, state[f"{p}.conv3.weight"]), state, f"{p}.bn3", eps)
            gate = out.mean(axis=(2, 3), keepdims=True)
            gate = relu(conv2d(gate, state[f"{p}.conv4.weight"], state[f"{p}.conv4.bias"]))
            gate = 1 / (
                1 + np.exp(-conv2d(gate, state[f"{p}.conv5.weight"], state[f"{p}.conv5.bias"]))
            )
            if block == 0:
                shortcut = conv2d(x, state[f"{p}.downsample.0.weight"], stride=stride)
                shortcut = batch_norm(shortcut, state, f"{p}.downsample.1", eps)
            else:
                shortcut = x
            x = relu(out * gate + shortcut)
    return np.transpose(x, (0, 2, 3, 1))


def keras_vggface_layers(state):
    """[(keras-vggface layer name, [(weight name, HWIO/Keras array), ...])] from a state dict."""

    def kernel(name):
        return np.transpose(state[name], (2, 3, 1, 0))

    def conv_entry(keras_name, torch_prefix, bias=False):
        weights = [(f"{keras_name}/kernel:0", kernel(f"{torch_prefix}.weight"))]
        if bias:
            weights.append((f"{keras_name}/bias:0", state[f"{torch_prefix}.bias"]))
        return keras_name, weights

    def bn_entry(keras_name, torch_prefix):
        params = zip(
            ("gamma", "beta", "moving_mean", "moving_variance"),
            ("weight", "bias", "running_mean", "running_var"),
        )
        return keras_name, [
            (f"{keras_name}/{k}:0", state[f"{torch_prefix}.{t}"]) for k, t in params
        ]

    layers = [
        conv_entry("conv1/7x7_s2", "conv1"),
        bn_entry("conv1/7x7_s2/bn", "bn1"),
        ("activation_1", []),
        ("max_pooling2d_1", []),
    ]
    for layer, blocks, _ in STAGES:
        for block in range(blocks):
            k = f"conv{layer + 1}_{block + 1}"
            p = f"layer{layer}.{block}"
            for suffix, conv, bn in (
                ("1x1_reduce", "conv1", "bn1"),
                ("3x3", "conv2", "bn2"),
                ("1x1_increase", "conv3", "bn3"),
            ):
                layers += [
                    conv_entry(f"{k}_{suffix}", f"{p}.{conv}"),
                    bn_entry(f"{k}_{suffix}/bn", f"{p}.{bn}"),
                ]
            layers += [
                conv_entry(f"{k}_1x1_down", f"{p}.conv4", bias=True),
                conv_entry(f"{k}_1x1_up", f"{p}.conv5", bias=True),
            ]
            if block == 0:
                layers += [
                    conv_entry(f"{k}_1x1_proj", f"{p}.downsample.0"),
                    bn_entry(f"{k}_1x1_proj/bn", f"{p}.downsample.1"),
                ]
    layers.append(("avg_pool", []))
    if "fc.weight" in state:
        layers.append(
            (
                "classifier",
                [
                    ("classifier/kernel:0", state["fc.weight"].T),
                    ("classifier/bias:0", state["fc.bias"]),
                ],
            )
        )
    return layers


def write_keras_vggface_h5(path, layers, model_weights_group=False):
    """Write `layers` as Keras 2's `save_weights` (or `save`, under model_weights) did."""
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if model_weights_group else f
        root.attrs["layer_names"] = [name.encode("utf8") for name, _ in layers]
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = b"2.1.5"
        for name, weights in layers:
            group = root.require_group(name)  # '/' in the name makes nested groups
            group.attrs["weight_names"] = [w.encode("utf8") for w, _ in weights]
            for weight_name, array in weights:
                group.create_dataset(weight_name, data=array)


def write_pytorch_pickle(path, state):
    with open(path, "wb") as f:
        pickle.dump(dict(state), f, protocol=2)
