"""Deployment: SavedModel for TF-Serving, TFLite for devices, ONNX, and prediction from them."""

from depnet_tf.export.loading import load_model
from depnet_tf.export.onnx import OnnxRunner, export_onnx
from depnet_tf.export.predictor import load_predictor, predict_path
from depnet_tf.export.savedmodel import export_savedmodel, signature_metadata
from depnet_tf.export.tflite import QUANTIZATIONS, LiteRTRunner, export_tflite
from depnet_tf.export.version import export_version

__all__ = [
    "QUANTIZATIONS",
    "LiteRTRunner",
    "OnnxRunner",
    "export_onnx",
    "export_savedmodel",
    "export_tflite",
    "export_version",
    "load_model",
    "load_predictor",
    "predict_path",
    "signature_metadata",
]
