"""SavedModel export for TF-Serving: `<out>/<name>/<version>/` with a uint8 `serving_default`.

The signature takes the raw clips a client has, `frames` uint8 RGB [None, T, S, S, 3],
and returns `bdi_ii` (float32 [None]) and `severity` (int32 [None], the paper's
Table 1 band). Casting and VGGFace2 preprocessing happen inside the graph.
"""

import json
import os
import shutil

import numpy as np
import tensorflow as tf

from depnet_tf.atomic import atomic_path
from depnet_tf.constants import SEVERITY_NAMES, SEVERITY_UPPER

MODELS_CONFIG = """model_config_list {{
  config {{
    name: '{name}'
    base_path: '{base_path}'
    model_platform: 'tensorflow'
  }}
}}
"""


def severity_in_graph(scores):
    """Table 1 band of each score, as `depnet_tf.severity.severity_band` (rounded first)."""
    rounded = tf.math.rint(scores)
    thresholds = tf.constant(SEVERITY_UPPER[:-1], tf.float32)
    return tf.reduce_sum(tf.cast(rounded[:, None] > thresholds, tf.int32), axis=1)


def serving_function(model):
    """The `serving_default` function of `model` (a sequence `DepressionRegressor`)."""
    steps, size = model.config.num_frames, model.config.image_size
    spec = tf.TensorSpec([None, steps, size, size, 3], tf.uint8, name="frames")

    @tf.function(input_signature=[spec])
    def serve(frames):
        scores = model(tf.cast(frames, tf.float32), training=False)[:, 0]
        return {"bdi_ii": scores, "severity": severity_in_graph(scores)}

    return serve


def serving_module(model):
    """A `tf.Module` holding the serving function and exactly the variables it reads.

    Keras' `ExportArchive` stores every weight twice on the TensorFlow backend
    (once per `keras.Variable` wrapper, once per captured `tf.Variable`;
    keras-team/keras#23553), doubling the SavedModel on disk and in TF-Serving's
    memory. Tracking the traced function's own captured variables stores each
    weight once.
    """
    serve = serving_function(model)
    concrete = serve.get_concrete_function()
    module = tf.Module()
    module.serve = serve
    module.serving_variables = list(concrete.variables)
    return module


def export_savedmodel(model, out_dir, name="depnet", version=1, force=False):
    """Write `out_dir/name/version/` (SavedModel), `out_dir/models.config` and a REST example.

    The version folder is written under a temporary name and renamed when
    complete; an existing version is replaced only with `force=True`.

    Returns:
        The version folder's path.
    """
    if int(version) != version or version < 1:
        raise ValueError(f"--version must be a positive integer. Received: {version!r}")
    if model.arch not in ("depnet", "resnet50-sequence"):
        raise ValueError(f"export takes sequence models (depnet, resnet50-sequence); got {model.arch!r}")
    model_dir = os.path.join(out_dir, name)
    target = os.path.join(model_dir, str(int(version)))
    if os.path.exists(target) and not force:
        raise ValueError(f"{target} exists; pick another --version or pass --force to replace it")
    module = serving_module(model)
    # TF-Serving loads only numeric version folders, so it never sees the
    # temporary one; the old version (with --force) goes just before the rename.
    with atomic_path(target) as temporary:
        tf.saved_model.save(module, temporary, signatures={"serving_default": module.serve})
        if os.path.exists(target):
            shutil.rmtree(target)
    write_models_config(out_dir, name)
    write_request_example(model, os.path.join(model_dir, "request.example.json"))
    return target


def write_models_config(out_dir, name):
    """`models.config` for `tensorflow_model_server --model_config_file`."""
    base_path = os.path.join("/models", name)
    with atomic_path(os.path.join(out_dir, "models.config")) as temporary:
        with open(temporary, "w") as file:
            file.write(MODELS_CONFIG.format(name=name, base_path=base_path))


def write_request_example(model, path):
    """A TF-Serving REST body (`instances` rows) with one mid-grey clip."""
    steps, size = model.config.num_frames, model.config.image_size
    clip = np.full((steps, size, size, 3), 128, np.uint8)
    body = {"signature_name": "serving_default", "instances": [{"frames": clip.tolist()}]}
    with atomic_path(path) as temporary:
        with open(temporary, "w") as file:
            json.dump(body, file, separators=(",", ":"))


def signature_metadata(model):
    """What a client needs to know, for sidecar files and `depnet predict`."""
    return {
        "inputs": {"frames": {"dtype": "uint8", "shape": [None, model.config.num_frames,
                                                            model.config.image_size,
                                                            model.config.image_size, 3],
                              "layout": "RGB 0-255, channels last"}},
        "outputs": {"bdi_ii": {"dtype": "float32", "shape": [None]},
                    "severity": {"dtype": "int32", "shape": [None]}},
        "num_frames": model.config.num_frames,
        "image_size": model.config.image_size,
        "severity_bands": [{"band": i, "name": n, "max_score": u}
                           for i, (n, u) in enumerate(zip(SEVERITY_NAMES, SEVERITY_UPPER))],
        "preprocessing": "inside the graph (RGB->BGR, minus the VGGFace2 means)",
    }


def write_sidecar(path, metadata, **details):
    """`path` + `.json`: the signature metadata of an exported file, plus `details`."""
    with atomic_path(f"{path}.json") as temporary:
        with open(temporary, "w") as file:
            json.dump({**metadata, **details}, file, indent=2)
