"""`inspect_weights` and `convert_weights`: what a weight file holds, and our own copy of it."""

import os

import numpy as np

from depnet_tf.backbones.senet50 import SENet50Backbone
from depnet_tf.errors import WeightsError
from depnet_tf.files import remove_stale_temporaries, write_large
from depnet_tf.weights.assign import LoadReport, match
from depnet_tf.weights.loader import load_vggface2, read_weights


def _senet_for(tensors, stem):
    include_top = "classifier" in tensors
    kwargs = {"classes": int(np.shape(tensors["classifier"][0])[-1])} if include_top else {}
    return SENet50Backbone(input_shape=(32, 32, 3), include_top=include_top, stem=stem, **kwargs)


def inspect_weights(path):
    """Describe a weight file and whether it fits SENet50.

    Returns:
        A dict with `format`, `stem`, `layers`, `parameters`, `include_top`,
        `fits` (bool) and `problems` (a one-line account, empty when it fits).
    """
    file_format, stem, tensors = read_weights(path)
    report = LoadReport(str(path), file_format)
    match(_senet_for(tensors, stem), tensors, report)
    return {
        "path": str(path),
        "format": file_format,
        "stem": stem,
        "layers": len(tensors),
        "parameters": int(sum(np.size(a) for arrays in tensors.values() for a in arrays)),
        "include_top": "classifier" in tensors,
        "fits": report.ok,
        "problems": report.problems(),
    }


def convert_weights(source, destination):
    """Write `source` (any supported format) as our `.weights.h5`, then verify it.

    The file is written atomically and read back: every array must equal the
    source's (after the layout transforms). Returns the `LoadReport` of the load.
    """
    destination = str(destination)
    if not destination.endswith(".weights.h5"):
        raise WeightsError(f"{destination}: the output name must end with .weights.h5")
    _, stem, tensors = read_weights(source)
    model = _senet_for(tensors, stem)
    report = load_vggface2(model, source, strict=True)
    remove_stale_temporaries(os.path.dirname(os.path.abspath(destination)))
    size = sum(int(np.prod(w.shape)) * 4 for w in model.weights)
    write_large(destination, model.save_weights, size, "the weights")
    _, written_stem, written = read_weights(destination)
    if (
        written_stem != stem
        or written.keys() != tensors.keys()
        or not all(
            np.array_equal(a, b) for name in tensors for a, b in zip(tensors[name], written[name])
        )
    ):
        raise WeightsError(f"{destination}: verification failed, the written weights differ")
    return report
