"""Which model made an artifact: the weights digest of a model file, a SavedModel or a sidecar.

Every artifact we write records the weights digest (`models.weights_hash`) of
the model behind it: predictions CSVs (`model_sha256`), calibration records
(`model_weights_sha256`), SavedModels (`assets.extra/depnet_export.json`) and
TFLite/ONNX sidecars (`weights_sha256`). This module reads it back from any
model path, so two artifacts can be checked to belong together.
"""

import os

from depnet_tf import files
from depnet_tf.errors import ModelFileError


def model_weights_sha256(path):
    """The weights digest of the model at `path` (`.keras`, SavedModel folder, `.tflite`, `.onnx`).

    A `.keras` file is loaded and hashed; the exported formats carry the digest
    of the model they were exported from.
    """
    from depnet_tf.export.runner import read_record
    from depnet_tf.export.savedmodel import read_fingerprint

    path = os.fspath(path)
    if files.isdir(path):
        record = read_fingerprint(path)
        where = f"{path}/assets.extra/depnet_export.json"
    elif path.endswith((".tflite", ".onnx")):
        record = read_record(f"{path}.json", "sidecar file")
        where = f"{path}.json"
    else:
        from depnet_tf.models.loading import load_regressor
        from depnet_tf.models.regressor import weights_hash

        return weights_hash(load_regressor(path))
    if not record or not record.get("weights_sha256"):
        raise ModelFileError(f"{where}: does not record the weights digest of its model")
    return record["weights_sha256"]
