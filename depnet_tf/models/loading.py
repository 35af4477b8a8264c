"""`load_keras_model`: a `.keras` file written by depnet_tf, in any process.

Importing this module registers every depnet_tf Keras class (the layers,
`SENet50Backbone`, `DepressionRegressor`), so a `.keras` file loads in a fresh
process that has imported nothing else. Every broken-file case becomes a
one-line `ModelFileError` naming the file.
"""

import os
import zipfile

import keras

import depnet_tf.layers  # noqa: F401 - registers the custom layers
from depnet_tf import files
from depnet_tf.backbones import SENet50Backbone  # noqa: F401 - registers the backbone
from depnet_tf.errors import ModelFileError
from depnet_tf.models.regressor import DepressionRegressor

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def describe_file(path):
    """What kind of model file `path` (local or a gfile URL) is, from its contents.

    One of: keras, savedmodel, folder, missing, empty, hdf5, tflite, truncated-zip, unknown.
    """
    path = os.fspath(path)
    if files.isdir(path):
        has_graph = files.isfile(os.path.join(path, "saved_model.pb"))
        return "savedmodel" if has_graph else "folder"
    if not files.exists(path):
        return "missing"
    with files.open_file(path) as file:
        head = file.read(8)
        if not head:
            return "empty"
        if head == HDF5_SIGNATURE:
            return "hdf5"
        if head[4:8] == b"TFL3":
            return "tflite"
        if zipfile.is_zipfile(file):
            return "keras"
    if head[:2] == b"PK":
        return "truncated-zip"
    return "unknown"


def load_keras_model(path):
    """Load a `.keras` model (uncompiled: the file holds no optimizer state we need).

    Args:
        path: a `.keras` file written by `depnet train` or `model.save`.

    Returns:
        The `keras.Model` (a `DepressionRegressor` for our own files).

    Raises:
        ModelFileError: one line naming the file: missing, empty, truncated,
            another kind of model file, or not loadable.
    """
    path = os.fspath(path)
    kind = describe_file(path)
    problems = {
        "missing": "no such model file",
        "empty": "the model file is empty (0 bytes)",
        "truncated-zip": "not a complete .keras archive (truncated or damaged)",
        "hdf5": "an HDF5 file (weights, or a Keras 2 model), not a .keras model",
        "tflite": "a TFLite file; this needs the Keras model (.keras)",
        "savedmodel": "a SavedModel folder; this needs the Keras model (.keras)",
        "folder": "a folder, not a .keras model file",
        "unknown": "not a .keras model (not a zip archive)",
    }
    if kind in problems:
        raise ModelFileError(f"{path}: {problems[kind]}")
    if not path.endswith(".keras"):
        raise ModelFileError(
            f"{path}: a .keras archive with another extension; rename it to end in .keras"
        )
    try:
        with files.local_copy(path) as local:
            model = keras.saving.load_model(local, compile=False)
    except (ValueError, TypeError, KeyError, OSError, zipfile.BadZipFile, EOFError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"{path}: cannot load the .keras model ({reason})") from None
    return model


def load_regressor(path):
    """`load_keras_model`, refusing a model that is not one of ours (`DepressionRegressor`)."""
    model = load_keras_model(path)
    if not isinstance(model, DepressionRegressor):
        raise ModelFileError(
            f"{path}: a Keras model but not a depnet_tf one ({type(model).__name__}); "
            "build it with depnet_tf.build_model"
        )
    return model
