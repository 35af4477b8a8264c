"""`load_predictor` and `predict_path`: a BDI-II estimate for one video or frame folder.

A predictor is a `.keras` file, a SavedModel folder (ours, with the uint8
`serving_default`), a `.tflite` file (LiteRT) or an `.onnx` file (onnxruntime);
all run compiled graphs, not eager code.
"""

import os

import numpy as np
import tensorflow as tf

from depnet_tf import files
from depnet_tf.constants import EVAL_CLIPS
from depnet_tf.data.inputs import clip_files, clip_frames, source_frames
from depnet_tf.errors import DataError, ModelFileError
from depnet_tf.evaluation.conformal import describe, interval, read_calibration
from depnet_tf.export.loading import load_model
from depnet_tf.export.runner import Runner
from depnet_tf.severity import severity_name


class KerasRunner(Runner):
    """Scores samples with a Keras model through its compiled serving function."""

    def __init__(self, model, path=""):
        from depnet_tf.export.savedmodel import input_shape, serving_function
        from depnet_tf.models.regressor import weights_hash

        digest = weights_hash(model)
        calibration = read_calibration(path, digest) if path else None
        faces = (getattr(model, "provenance", None) or {}).get("faces")
        super().__init__(path or model.name, input_shape(model), calibration, digest, faces)
        self.model = model
        self._serve = serving_function(model)  # a tf.function: graph, not eager

    def run(self, samples):
        return {name: value.numpy() for name, value in self._serve(samples).items()}


class SavedModelRunner(Runner):
    """Scores samples with an exported SavedModel's `serving_default` signature."""

    def __init__(self, loaded, path):
        signatures = loaded.signatures
        if "serving_default" not in signatures:
            raise ModelFileError(f"{path}: the SavedModel has no serving_default signature")
        self._serve = signatures["serving_default"]
        inputs = self._serve.structured_input_signature[1]
        if "frames" not in inputs:
            raise ModelFileError(f"{path}: not a depnet_tf export (inputs {sorted(inputs)})")
        from depnet_tf.export.savedmodel import read_fingerprint

        fingerprint = read_fingerprint(path) or {}
        super().__init__(
            path,
            inputs["frames"].shape.as_list(),
            fingerprint.get("calibration"),
            fingerprint.get("weights_sha256"),
            (fingerprint.get("provenance") or {}).get("faces"),
        )

    def run(self, samples):
        return {name: value.numpy() for name, value in self._serve(frames=samples).items()}


class EncodedSavedModelRunner(SavedModelRunner):
    """Scores samples through the `serving_encoded` signature: it is sent the image files'
    bytes (`takes_files`), and decodes and resizes them in the graph."""

    takes_files = True

    def __init__(self, loaded, path):
        super().__init__(loaded, path)
        if "serving_encoded" not in loaded.signatures:
            raise ModelFileError(
                f"{path}: the SavedModel has no serving_encoded signature "
                "(exported before depnet_tf added it); use serving_default"
            )
        self._encoded = loaded.signatures["serving_encoded"]

    def __call__(self, files):
        files = np.asarray(files, dtype=object)
        expected = () if self.single_frame else (self.num_frames,)
        if files.shape[1:] != expected:
            raise ValueError(
                f"{self.path} takes (K, {', '.join(map(str, expected))}) image "
                f"files; got {files.shape}"
            )
        data = np.vectorize(_read_bytes, otypes=[object])(files)
        outputs = self._encoded(frames_encoded=tf.constant(data.tolist(), tf.string))
        return (
            np.asarray(outputs["bdi_ii"], np.float32).reshape(-1),
            np.asarray(outputs["severity"], np.int32).reshape(-1),
        )


def _read_bytes(path):
    from depnet_tf.files import open_file

    with open_file(path) as file:
        return file.read()


def load_predictor(path, signature="serving_default"):
    """A `Runner` for any file `load_model` takes: uint8 samples in, (scores, bands) out.

    Its `calibration` is the conformal record stored with the model (beside a
    `.keras` file, inside a SavedModel, in a TFLite/ONNX sidecar), or None.
    With a SavedModel, `signature="serving_encoded"` sends the frames' image
    bytes instead of pixels.
    """
    import keras

    if signature not in ("serving_default", "serving_encoded"):
        raise ValueError(
            "`signature` must be 'serving_default' or 'serving_encoded'. "
            f"Received: signature={signature!r}"
        )
    model = load_model(path)
    if signature == "serving_encoded" and not hasattr(model, "signatures"):
        raise ModelFileError(
            f"{path}: the serving_encoded signature belongs to an exported SavedModel folder"
        )
    if isinstance(model, keras.Model):
        return KerasRunner(model, path)
    if hasattr(model, "signatures"):
        if signature == "serving_encoded":
            return EncodedSavedModelRunner(model, path)
        return SavedModelRunner(model, path)
    return model  # the LiteRT and ONNX runners are predictors already


def predict_path(path, predictor, clips=EVAL_CLIPS, detector=None, progress=False, **face_options):
    """Estimate the BDI-II score of a video file or a folder of face frames.

    A folder is read as OpenFace output. A video goes through face extraction
    first, redoing what the model recorded of its training faces (crop size and
    mode, detector size, sampling; `faces.extract.replay_settings`), so it
    scores as `depnet evaluate` scored the frames `depnet faces` made of it.
    `face_options` (`size`, `crop`, `every`, `max_frames`, `detect_size`)
    override them; a model without a record gets `depnet faces`' defaults at its
    own input size. Returns a dict with the mean score over `clips` evenly
    spread clips, its Table 1 band, the spread, the model's weights digest and,
    for a video, the face settings used.
    """
    from depnet_tf.faces.extract import replay_settings

    if isinstance(clips, bool) or not isinstance(clips, int) or clips < 1:
        raise ValueError(f"`clips` must be a positive integer. Received: clips={clips!r}")
    settings = replay_settings(predictor.faces, predictor.image_size, **face_options)
    with source_frames(path, settings, detector, progress) as frames:
        result = _predict_frames(os.fspath(path), frames, predictor, clips)
    result["faces"] = None if files.isdir(os.fspath(path)) else settings
    return result


def _predict_frames(source, frames, predictor, clips):
    if not frames:
        raise DataError(f"{source}: no usable face frames")
    if getattr(predictor, "takes_files", False):
        batch = clip_files(frames, predictor.num_frames, clips, predictor.single_frame)
    else:
        batch = clip_frames(
            frames,
            predictor.num_frames,
            predictor.image_size,
            clips,
            single_frame=predictor.single_frame,
        )
    scores, _ = predictor(batch)
    scores = np.asarray(scores, np.float64)
    from depnet_tf.severity import severity_band

    mean = float(scores.mean())
    band = int(severity_band([mean])[0])
    bounds = interval([mean], (predictor.calibration or {}).get("q"))
    return {
        "input": source,
        "model_sha256": predictor.model_sha256,
        "bdi_ii": mean,
        "severity": band,
        "severity_name": severity_name(band),
        "clips": len(scores),
        "clip_scores": [float(s) for s in scores],
        "std": float(scores.std()),
        "min": float(scores.min()),
        "max": float(scores.max()),
        "frames_used": len(frames),
        "interval": None
        if bounds is None
        else {
            "lower": float(bounds[0][0]),
            "upper": float(bounds[1][0]),
            "alpha": predictor.calibration["alpha"],
            "q": predictor.calibration["q"],
        },
        "interval_note": describe(predictor.calibration),
    }
