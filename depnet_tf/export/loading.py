"""`load_model`: any model file depnet_tf writes, in any process, with one-line errors.

`.keras` files give the Keras model; a SavedModel folder gives the loaded
SavedModel; `.tflite` and `.onnx` files give runners (`LiteRTRunner`,
`OnnxRunner`). Every broken-file case is a `ModelFileError` naming the file.
"""

import os

from depnet_tf import files
from depnet_tf.errors import ModelFileError
from depnet_tf.models.loading import describe_file, load_keras_model

FORMATS = ".keras file, SavedModel folder, .tflite or .onnx file"


def check_savedmodel(path):
    """Refuse a folder that is not a complete SavedModel, naming what is missing."""
    path = os.fspath(path)
    if not files.isdir(path):
        raise ModelFileError(f"{path}: no such SavedModel folder")
    if not files.isfile(os.path.join(path, "saved_model.pb")):
        raise ModelFileError(
            f"{path}: not a SavedModel folder (no saved_model.pb); for TF-Serving layouts "
            "pass the version folder, e.g. export/depnet/1"
        )
    variables = os.path.join(path, "variables")
    if not files.isfile(os.path.join(variables, "variables.index")):
        raise ModelFileError(
            f"{path}: incomplete SavedModel (no variables/variables.index); copy the whole folder"
        )


def load_savedmodel(path):
    """`tf.saved_model.load` of a checked folder; a damaged one is one line naming it."""
    import tensorflow as tf

    check_savedmodel(path)
    try:
        return tf.saved_model.load(os.fspath(path))
    except (tf.errors.OpError, ValueError, OSError) as error:
        reason = str(getattr(error, "message", error)).strip().splitlines()[0]
        raise ModelFileError(f"{path}: cannot load the SavedModel ({reason})") from None


def load_model(path):
    """Load any model file depnet_tf writes.

    Args:
        path: a `.keras` file, a SavedModel folder, a `.tflite` or an `.onnx` file.

    Returns:
        A `keras.Model` (`.keras`), a loaded SavedModel, a `LiteRTRunner` or an
        `OnnxRunner`.

    Raises:
        ModelFileError: one line naming the file and what is wrong with it.
    """
    path = os.fspath(path)
    kind = describe_file(path)
    if kind in ("savedmodel", "folder"):
        return load_savedmodel(path)
    if path.endswith(".tflite"):
        from depnet_tf.export.tflite import LiteRTRunner

        return LiteRTRunner(path)
    if path.endswith(".onnx"):
        from depnet_tf.export.onnx import OnnxRunner

        return OnnxRunner(path)
    if path.endswith(".keras") or kind in ("keras", "truncated-zip", "hdf5", "empty"):
        return load_keras_model(path)
    if kind == "missing":
        raise ModelFileError(f"{path}: no such model file or folder")
    raise ModelFileError(f"{path}: not a model depnet_tf can load (a {FORMATS})")
