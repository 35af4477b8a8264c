"""`load_vggface2`: put VGGFace2 SE-ResNet-50 weights into a model, by name and strictly.

Three formats are read, each by a pure mapping to our layer names that feeds
one strict assignment routine (`depnet_tf.weights.assign`):

1. keras-vggface's legacy HDF5 files (`rcmalli_vggface_tf_[notop_]senet50.h5`),
   read with h5py. Keras 3's `load_weights(by_name=True)` would silently skip
   their layers, because their names contain "/".
2. VGGFace2-pytorch pickles (`senet50_ft_weight.pkl`, `senet50_scratch_weight.pkl`),
   which need the `stem="caffe"` topology.
3. Our own `.weights.h5`, written by `SENet50.save_weights` or `depnet weights convert`.
"""

import os
import warnings

import h5py

from depnet_tf.backbones.senet50 import SENet50Backbone
from depnet_tf.errors import WeightsError
from depnet_tf.weights import keras_vggface_h5, pytorch_pickle
from depnet_tf.weights.assign import LoadReport, assign
from depnet_tf.weights.download import check_sha256, download_weights

KERAS_VGGFACE_FILES = {
    False: "rcmalli_vggface_tf_notop_senet50.h5",
    True: "rcmalli_vggface_tf_senet50.h5",
}
CACHE_SUBDIR = os.path.join("models", "vggface")  # keras-vggface's own cache folder

FORMAT_KERAS_VGGFACE = "keras-vggface HDF5"
FORMAT_PYTORCH = "VGGFace2-pytorch pickle"
FORMAT_NATIVE = "depnet_tf .weights.h5"


def keras_home():
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def find_backbone(model):
    """The SENet50 of `model`: the model itself, or the one inside a DepNet/baseline."""
    pending = [model]
    while pending:
        layer = pending.pop(0)
        if isinstance(layer, SENet50Backbone):
            return layer
        if hasattr(layer, "layer"):  # wrappers such as PerFrame
            pending.append(layer.layer)
        pending.extend(getattr(layer, "layers", []))
    raise WeightsError(
        f"Model {model.name!r} has no SENet50 backbone to load VGGFace2 weights into "
        "(the ResNet-50 baselines take 'imagenet' or a Keras weight file)."
    )


def read_weights(path):
    """Read any supported file as (format, stem, {our layer name: [arrays]})."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise WeightsError(f"{path}: no such weight file")
    if os.path.getsize(path) == 0:
        raise WeightsError(f"{path}: the file is empty")
    if h5py.is_hdf5(path):
        try:
            with h5py.File(path, "r") as h5file:
                if keras_vggface_h5.is_legacy_keras(h5file):
                    tensors = keras_vggface_h5.read_keras_vggface_h5(h5file, path)
                    return FORMAT_KERAS_VGGFACE, keras_vggface_h5.STEM, tensors
                if "layers" not in h5file:
                    raise WeightsError(
                        f"{path}: HDF5 file is neither a keras-vggface weight file "
                        "(no 'layer_names' attribute) nor a Keras .weights.h5 (no 'layers' group)"
                    )
                native = _describe_native(h5file)
        except (OSError, RuntimeError) as error:
            raise WeightsError(
                f"{path}: cannot read the HDF5 file, it may be truncated or corrupt "
                f"({str(error).splitlines()[0]})"
            ) from None
        return FORMAT_NATIVE, native["stem"], _read_native(path, **native)
    try:
        state = pytorch_pickle.load_pickle(path)
    except WeightsError as error:
        raise WeightsError(
            f"{path}: neither an HDF5 nor a pickle weight file ({error.args[0].split(': ', 1)[1]})"
        ) from None
    return FORMAT_PYTORCH, pytorch_pickle.STEM, pytorch_pickle.convert_state_dict(state, path)


def _describe_native(h5file):
    layers = h5file["layers"]
    top = "dense" in layers
    classes = layers["dense/vars/0"].shape[1] if top else None
    stem = "caffe" if "ceil_max_pooling2d" in layers else "vggface"
    return {"stem": stem, "include_top": top, "classes": classes}


def _read_native(path, stem, include_top, classes):
    # Keras names the groups of a .weights.h5 after layer classes, in graph
    # order, so the file is read into a SENet50 of the same shape, then by name.
    kwargs = {"classes": classes} if include_top else {}
    model = SENet50Backbone(input_shape=(32, 32, 3), include_top=include_top, stem=stem, **kwargs)
    try:
        model.load_weights(path)
    except (ValueError, KeyError, OSError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise WeightsError(f"{path}: does not hold SENet50 weights ({message})") from None
    return {
        layer.name: [w.numpy() for w in layer.weights] for layer in model.layers if layer.weights
    }


def resolve_vggface2(include_top=False):
    """The local path of keras-vggface's SENet50 weights: its cache, else a download.

    Looks in `~/.keras/models/vggface/` (or `$KERAS_HOME/models/vggface/`) for the
    file matching `include_top` (a with-top file also serves a model without
    top; see `cached_vggface2`). Otherwise downloads keras-vggface's release file,
    verified as `weights.download` describes.
    """
    found = cached_vggface2(include_top)
    if found:
        return check_sha256(found)
    return download_weights(
        KERAS_VGGFACE_FILES[bool(include_top)], os.path.join(keras_home(), CACHE_SUBDIR)
    )


def cached_vggface2(include_top=False):
    """keras-vggface's cached SENet50 file that serves `include_top`, or None (never downloads)."""
    cache = os.path.join(keras_home(), CACHE_SUBDIR)
    # A with-top file also serves a model without top; not the other way round.
    names = (KERAS_VGGFACE_FILES[True],) if include_top else tuple(KERAS_VGGFACE_FILES.values())
    for name in names:
        candidate = os.path.join(cache, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def load_vggface2(model, path, *, strict=True):
    """Load SE-ResNet-50 weights into a `SENet50`, or into the one inside a DepNet.

    Args:
        model: a `SENet50Backbone`, or a model that contains one (DepNet, "senet-single").
        path: a keras-vggface `.h5`, a VGGFace2-pytorch `.pkl`, our `.weights.h5`,
            or `"vggface2"` for keras-vggface's cached or downloaded file.
        strict: bool. If True (default), every backbone weight must be set
            exactly once from the file: missing layers, unexpected layers and
            shape mismatches are reported together in one `WeightsError`. If
            False, what fits is loaded and the rest is reported with a warning.

    Returns:
        A `LoadReport`. The classifier of a with-top file loaded into a no-top
        model is listed as ignored.

    Examples:
    >>> model = SENet50(weights=None)                        # doctest: +SKIP
    >>> load_vggface2(model, "rcmalli_vggface_tf_notop_senet50.h5").summary()  # doctest: +SKIP
    """
    backbone = find_backbone(model)
    if path == "vggface2":
        path = resolve_vggface2(backbone.include_top)
    path = os.fspath(path)
    file_format, stem, tensors = read_weights(path)
    if stem != backbone.stem:
        raise WeightsError(
            f"{path}: {file_format} weights need stem={stem!r}, but the model has "
            f"stem={backbone.stem!r}; build it with SENet50(stem={stem!r}) or "
            f"DepNetConfig(stem={stem!r})"
        )
    report = assign(backbone, tensors, LoadReport(path, file_format), strict=strict)
    if not report.ok:
        warnings.warn(report.summary(), stacklevel=2)
    return report
