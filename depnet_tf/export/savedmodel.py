"""SavedModel export for TF-Serving: `<out>/<name>/<version>/` with a uint8 `serving_default`.

The signature takes the raw clips a client has, `frames` uint8 RGB [None, T, S, S, 3],
and returns `bdi_ii` (float32 [None]) and `severity` (int32 [None], the paper's
Table 1 band). Casting and VGGFace2 preprocessing happen inside the graph.
"""

import json
import os

import numpy as np
import tensorflow as tf

from depnet_tf import files
from depnet_tf.constants import BDI_MAX, SEVERITY_NAMES, SEVERITY_UPPER
from depnet_tf.data.frames import decode_frame
from depnet_tf.errors import StorageError, VersionExistsError
from depnet_tf.files import atomic_path, ensure_free_space, remove_stale_temporaries

# Written inside each version: which model it was exported from (TF-Serving ignores it).
FINGERPRINT = os.path.join("assets.extra", "depnet_export.json")
WARMUP = os.path.join("assets.extra", "tf_serving_warmup_requests")  # read by TF-Serving
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


def input_shape(model):
    """The serving input's shape: [None, T, S, S, 3] (sequence models) or [None, S, S, 3]."""
    return [None, *model.architecture.input_shape(model.config)]


def serving_function(model, calibration=None):
    """The `serving_default` function of a `DepressionRegressor`: uint8 `frames` in.

    Sequence models take clips [None, T, S, S, 3]; single-image models take
    frames [None, S, S, 3] (a video's score is then the mean over its frames).
    With a `calibration` record whose `q` is bounded (`depnet calibrate`), it
    also returns `bdi_ii_lower` and `bdi_ii_upper`: each score +- q, clipped to
    0-63. An uncalibrated model has no such outputs: it never invents an interval.
    """
    spec = tf.TensorSpec(input_shape(model), tf.uint8, name="frames")

    @tf.function(input_signature=[spec])
    def serve(frames):
        return _outputs(model, tf.cast(frames, tf.float32), calibration)

    return serve


def encoded_input_shape(model):
    """The `serving_encoded` input's shape: [None, T] (sequence models) or [None]."""
    return [None, model.config.num_frames] if model.architecture.is_sequence else [None]


def encoded_serving_function(model, calibration=None):
    """The `serving_encoded` function: `frames_encoded`, tf.string, the JPEG/PNG/BMP bytes of
    each face frame (any size), [None, T] for sequence models or [None] for single-image ones.

    Frames are decoded and resized in the graph by the one frame reader
    (`depnet_tf.data.frames.decode_frame`), as training reads them; the outputs
    are `serving_default`'s.
    """
    spec = tf.TensorSpec(encoded_input_shape(model), tf.string, name="frames_encoded")
    size = model.config.image_size

    @tf.function(input_signature=[spec])
    def serve_encoded(frames_encoded):
        flat = tf.reshape(frames_encoded, [-1])
        images = tf.map_fn(
            lambda data: decode_frame(data, size),
            flat,
            fn_output_signature=tf.TensorSpec((size, size, 3), tf.float32),
        )
        shape = tf.concat([tf.shape(frames_encoded), [size, size, 3]], axis=0)
        return _outputs(model, tf.reshape(images, shape), calibration)

    return serve_encoded


def _outputs(model, images, calibration):
    """The signature outputs of float RGB 0-255 images (clips or frames)."""
    q = None if calibration is None else calibration.get("q")
    scores = model(images, training=False)[:, 0]
    outputs = {"bdi_ii": scores, "severity": severity_in_graph(scores)}
    if q is not None:
        outputs["bdi_ii_lower"] = tf.clip_by_value(scores - q, 0.0, float(BDI_MAX))
        outputs["bdi_ii_upper"] = tf.clip_by_value(scores + q, 0.0, float(BDI_MAX))
    return outputs


def serving_module(model, calibration=None):
    """A `tf.Module` holding the serving function and exactly the variables it reads.

    Keras' `ExportArchive` stores every weight twice on the TensorFlow backend
    (once per `keras.Variable` wrapper, once per captured `tf.Variable`;
    keras-team/keras#23553), doubling the SavedModel on disk and in TF-Serving's
    memory. Tracking the traced function's own captured variables stores each
    weight once.
    """
    serve = serving_function(model, calibration)
    concrete = serve.get_concrete_function()
    module = tf.Module()
    module.serve = serve
    module.serve_encoded = encoded_serving_function(model, calibration)
    module.serving_variables = list(concrete.variables)
    return module


def signatures(module):
    """{signature name: function} of a serving module."""
    return {"serving_default": module.serve, "serving_encoded": module.serve_encoded}


def export_fingerprint(model, calibration=None):
    """What identifies the model behind an export: architecture, config, weights, calibration."""
    from depnet_tf.models.regressor import weights_hash

    return {
        "arch": model.arch,
        "config": model.config.to_dict(),
        "weights_sha256": weights_hash(model),
        "calibration": calibration,
        "provenance": dict(getattr(model, "provenance", None) or {}),
    }


def read_fingerprint(target):
    """The fingerprint stored in an exported version, or None when it has none.

    A damaged one (unreadable, not JSON, a bad calibration record) is a
    `ModelFileError` naming the file, never read as "not calibrated".
    """
    from depnet_tf.evaluation.conformal import check_calibration
    from depnet_tf.export.runner import read_record

    path = os.path.join(target, FINGERPRINT)
    record = read_record(path, "export record")
    if record is not None:
        check_calibration(record.get("calibration"), path)
    return record


def is_complete(target):
    """Whether `target` holds a whole SavedModel (its graph and its variables)."""
    return files.isfile(os.path.join(target, "saved_model.pb")) and files.isfile(
        os.path.join(target, "variables", "variables.index")
    )


def check_version(version):
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"`version` must be a positive integer. Received: version={version!r}")


def export_savedmodel(
    model,
    out_dir,
    name="depnet",
    version=1,
    force=False,
    calibration=None,
    warmup=True,
    card=None,
):
    """Write `out_dir/name/version/` (SavedModel), `out_dir/models.config` and a REST example.

    The SavedModel has two signatures: `serving_default` (uint8 `frames`) and
    `serving_encoded` (`frames_encoded`, the image bytes of each frame). With
    `warmup`, `assets.extra/tf_serving_warmup_requests` holds one request per
    signature, which TF-Serving replays when it loads the version. A model
    `card` (`export.model_card`) goes into `assets.extra/model_card.json`.

    The version folder is written under a temporary name and renamed when
    complete (temporaries of killed runs are removed first); an existing
    version is replaced only with `force=True`. A full disk raises a
    `StorageError` naming the folder and leaves nothing behind.

    Returns:
        The version folder's path.
    """
    check_version(version)
    model_dir = os.path.join(out_dir, name)
    target = os.path.join(model_dir, str(version))
    remove_stale_temporaries(model_dir)
    if files.exists(target) and not force:
        raise VersionExistsError(target, "exists")
    ensure_free_space(model_dir, 4 * model.count_params(), "the SavedModel")
    module = serving_module(model, calibration)
    # TF-Serving loads only numeric version folders, so it never sees the
    # temporary one; the old version (with force) goes just before the rename.
    with atomic_path(target) as temporary:
        try:
            tf.saved_model.save(module, temporary, signatures=signatures(module))
        except tf.errors.OpError as error:
            raise StorageError(
                f"{target}: cannot write the SavedModel ({error.message.strip().splitlines()[0]})"
            ) from None
        os.makedirs(os.path.join(temporary, "assets.extra"), exist_ok=True)
        with open(os.path.join(temporary, FINGERPRINT), "w") as file:
            json.dump(export_fingerprint(model, calibration), file, indent=2)
        if card is not None:
            from depnet_tf.export.model_card import card_text

            with open(os.path.join(temporary, "assets.extra", "model_card.json"), "w") as file:
                file.write(card_text(card))
        if warmup:
            from depnet_tf.export.warmup import write_warmup_requests

            write_warmup_requests(os.path.join(temporary, WARMUP), model, name)
        files.remove(target)
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
    """A TF-Serving REST body (`instances` rows) with one mid-grey clip (or frame)."""
    clip = np.full(input_shape(model)[1:], 128, np.uint8)
    body = {"signature_name": "serving_default", "instances": [{"frames": clip.tolist()}]}
    with atomic_path(path) as temporary:
        with open(temporary, "w") as file:
            json.dump(body, file, separators=(",", ":"))


def signature_metadata(model, calibration=None):
    """What a client needs to know, for sidecar files and `depnet predict`."""
    from depnet_tf.models.regressor import weights_hash

    return {
        "weights_sha256": weights_hash(model),
        "provenance": dict(getattr(model, "provenance", None) or {}),
        "inputs": {
            "frames": {
                "dtype": "uint8",
                "shape": input_shape(model),
                "layout": "RGB 0-255, channels last",
            }
        },
        "arch": model.arch,
        "single_frame": not model.architecture.is_sequence,
        "calibration": calibration,
        "outputs": {
            "bdi_ii": {"dtype": "float32", "shape": [None]},
            "severity": {"dtype": "int32", "shape": [None]},
            **(
                {
                    "bdi_ii_lower": {"dtype": "float32", "shape": [None]},
                    "bdi_ii_upper": {"dtype": "float32", "shape": [None]},
                }
                if calibration is not None and calibration.get("q") is not None
                else {}
            ),
        },
        "num_frames": model.config.num_frames,
        "image_size": model.config.image_size,
        "severity_bands": [
            {"band": i, "name": n, "max_score": u}
            for i, (n, u) in enumerate(zip(SEVERITY_NAMES, SEVERITY_UPPER))
        ],
        "preprocessing": "inside the graph (RGB->BGR, minus the "
        f"{'VGGFace2' if model.architecture.backbone.uses_stem else 'ImageNet'} means)",
    }


def write_sidecar(path, metadata, **details):
    """`path` + `.json`: the signature metadata of an exported file, plus `details`."""
    with atomic_path(f"{path}.json") as temporary:
        with open(temporary, "w") as file:
            json.dump({**metadata, **details}, file, indent=2)
