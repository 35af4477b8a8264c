"""`Runner`: what every predictor shares, whatever runs it (Keras, SavedModel, LiteRT, ONNX).

A runner scores a batch of uint8 samples in one call: clips `(K, T, S, S, 3)`
for sequence models, frames `(K, S, S, 3)` for single-image models, and
returns `(bdi_ii float32 (K,), severity int32 (K,))`.
"""

import numpy as np


class Runner:
    """Base of the predictors: the exported input's geometry and the shape check.

    Args:
        path: the model file or folder, for messages.
        input_shape: the `frames` input's shape, batch first: [None, T, S, S, 3]
            or [None, S, S, 3].
        calibration: the model's conformal calibration record, or None.
    """

    def __init__(self, path, input_shape, calibration=None, model_sha256=None, faces=None):
        self.path = str(path)
        self.sample_shape = tuple(int(d) for d in input_shape[1:])
        self.calibration = calibration  # the conformal record (`depnet calibrate`), or None
        self.model_sha256 = model_sha256  # the weights digest of the model behind it, or None
        self.faces = faces  # how the model's training faces were made, when it recorded it

    @property
    def single_frame(self):
        """Whether samples are single frames (single-image models) rather than clips."""
        return len(self.sample_shape) == 3

    @property
    def num_frames(self):
        """T, frames per clip (1 for single-image models)."""
        return 1 if self.single_frame else self.sample_shape[0]

    @property
    def image_size(self):
        return self.sample_shape[-2]

    def check(self, samples):
        """`samples` as a uint8 array, refused with a message if its shape does not fit."""
        samples = np.asarray(samples)
        if samples.shape[1:] != self.sample_shape:
            expected = ", ".join(map(str, self.sample_shape))
            kind = "frames" if self.single_frame else "clips"
            raise ValueError(
                f"{self.path} takes {kind} of shape (K, {expected}); got {samples.shape}"
            )
        return samples.astype(np.uint8)

    def __call__(self, samples):
        outputs = self.run(self.check(samples))
        return (
            np.asarray(outputs["bdi_ii"], np.float32).reshape(-1),
            np.asarray(outputs["severity"], np.int32).reshape(-1),
        )

    def run(self, samples):
        """{"bdi_ii": ..., "severity": ...} of a checked uint8 batch."""
        raise NotImplementedError


def read_record(path, what):
    """The JSON object in file `path`, or None when there is no such file.

    A file that exists but cannot be read, is not JSON, or holds no JSON object
    is damaged: a `ModelFileError` naming it, never read as "no record".
    """
    import json

    from depnet_tf.errors import ModelFileError
    from depnet_tf.files import isfile, open_file

    if not isfile(path):
        return None
    try:
        with open_file(path, "rb") as file:
            record = json.loads(file.read())
    except (OSError, ValueError) as error:
        reason = " ".join(str(error).split())[:120]
        raise ModelFileError(f"{path}: damaged {what} ({reason})") from None
    if not isinstance(record, dict):
        raise ModelFileError(f"{path}: damaged {what} (not a JSON object)")
    return record


def sidecar_record(path):
    """(calibration, weights digest, training faces) recorded in an exported file's sidecar
    `<file>.json`: the keyword values of `Runner` beyond the input shape.

    No sidecar means none is known: (None, None, None). A damaged sidecar or
    calibration record is an error naming the file.
    """
    from depnet_tf.evaluation.conformal import check_calibration

    sidecar = f"{path}.json"
    record = read_record(sidecar, "sidecar file")
    if record is None:
        return None, None, None
    return (
        check_calibration(record.get("calibration"), sidecar),
        record.get("weights_sha256"),
        (record.get("provenance") or {}).get("faces"),
    )
