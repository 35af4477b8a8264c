"""`load_predictor` and `predict_path`: a BDI-II estimate for one video or frame folder.

A predictor is a `.keras` file, a SavedModel folder (ours, with the uint8
`serving_default`), a `.tflite` file (LiteRT) or an `.onnx` file (onnxruntime);
all run compiled graphs, not eager code.
"""

import os
import tempfile

import numpy as np

from depnet_tf.data import openface, sampling
from depnet_tf.data.errors import DataError
from depnet_tf.severity import severity_name


class KerasRunner:
    def __init__(self, path):
        import keras

        from depnet_tf.export.savedmodel import serving_function

        model = keras.saving.load_model(path)
        self.num_frames, self.image_size = model.config.num_frames, model.config.image_size
        self._serve = serving_function(model)  # a tf.function: graph, not eager

    def __call__(self, clips):
        outputs = self._serve(np.asarray(clips, np.uint8))
        return outputs["bdi_ii"].numpy(), outputs["severity"].numpy()


class SavedModelRunner:
    def __init__(self, path):
        import tensorflow as tf

        signatures = tf.saved_model.load(path).signatures
        if "serving_default" not in signatures:
            raise ValueError(f"{path}: the SavedModel has no serving_default signature")
        self._serve = signatures["serving_default"]
        spec = self._serve.structured_input_signature[1]["frames"]
        self.num_frames, self.image_size = int(spec.shape[1]), int(spec.shape[2])

    def __call__(self, clips):
        outputs = self._serve(frames=np.asarray(clips, np.uint8))
        return outputs["bdi_ii"].numpy(), outputs["severity"].numpy()


def load_predictor(path):
    """A callable from uint8 clips (K, T, S, S, 3) to (scores, bands), with `num_frames`
    and `image_size` attributes."""
    path = os.fspath(path)
    if path.endswith(".tflite"):
        from depnet_tf.export.tflite import LiteRTRunner

        return LiteRTRunner(path)
    if path.endswith(".onnx"):
        from depnet_tf.export.onnx import OnnxRunner

        return OnnxRunner(path)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise ValueError(f"{path}: not a SavedModel folder (no saved_model.pb); for TF-Serving "
                             "layouts pass the version folder, e.g. export/depnet/1")
        return SavedModelRunner(path)
    if path.endswith(".keras"):
        if not os.path.isfile(path):
            raise ValueError(f"{path}: no such model file")
        return KerasRunner(path)
    raise ValueError(f"{path}: --model must be a .keras file, a SavedModel folder, a .tflite or "
                     "an .onnx file")


def clip_frames(frames, num_frames, image_size, clips):
    """K evenly spread uint8 clips (K, T, S, S, 3) from [(number, image path)]."""
    positions = sampling.eval_clips(len(frames), num_frames, clips)
    needed = {int(i): openface.read_image(frames[i][1], image_size) for i in np.unique(positions)}
    return np.stack([[needed[int(i)] for i in clip] for clip in positions])


def predict_path(path, predictor, clips=10, max_frames=300, detector=None):
    """Estimate the BDI-II score of a video file or a folder of face frames.

    A video goes through face extraction first (aligned crops at the model's
    size); a folder is read as OpenFace output. Returns a dict with the mean
    score over `clips` evenly spread clips, its Table 1 band and the spread.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return _predict_frames(path, openface.list_frames(path), predictor, clips)
    from depnet_tf.data.detector import FaceDetector
    from depnet_tf.data.faces import extract_faces

    with tempfile.TemporaryDirectory() as folder:
        result = extract_faces(path, folder, detector or FaceDetector(), max_frames=max_frames,
                               image_size=predictor.image_size)
        frames = openface.list_frames(openface.aligned_dir(folder, result.stem))
        return _predict_frames(path, frames, predictor, clips)


def _predict_frames(source, frames, predictor, clips):
    if not frames:
        raise DataError(f"{source}: no usable face frames")
    batch = clip_frames(frames, predictor.num_frames, predictor.image_size, clips)
    scores, _ = predictor(batch)
    scores = np.asarray(scores, np.float64)
    from depnet_tf.severity import severity_band

    mean = float(scores.mean())
    band = int(severity_band([mean])[0])
    return {
        "input": source, "bdi_ii": mean, "severity": band, "severity_name": severity_name(band),
        "clips": len(scores), "clip_scores": [float(s) for s in scores],
        "std": float(scores.std()), "min": float(scores.min()), "max": float(scores.max()),
        "frames_used": len(frames),
    }
