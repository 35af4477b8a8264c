"""TFLite export (float32, float16, dynamic-range) of a serving SavedModel, with a sidecar JSON."""

import contextlib
import tempfile

import tensorflow as tf

from depnet_tf.constants import QUANTIZATIONS
from depnet_tf.errors import ExportError, ModelFileError
from depnet_tf.export.runner import Runner, sidecar_record
from depnet_tf.export.savedmodel import serving_module, signatures, write_sidecar
from depnet_tf.files import atomic_path, is_url, local_copy, open_file
from depnet_tf.models.loading import describe_file

INSTALL_HINT = "pip install ai-edge-litert"
FLATBUFFER_LIMIT = 2**31  # TFLite flatbuffers cannot exceed 2 GB
_BYTES_PER_WEIGHT = {"float32": 4, "float16": 2, "dynamic": 1}


def check_flatbuffer_size(parameters, quantization):
    """Refuse a conversion whose weights alone would pass the 2 GB flatbuffer limit."""
    estimate = parameters * _BYTES_PER_WEIGHT[quantization]
    if estimate >= FLATBUFFER_LIMIT:
        raise ExportError(
            f"a {quantization} TFLite file would hold about {estimate / 2**30:.1f} GB of weights, "
            "over the 2 GB flatbuffer limit; use the dynamic or float16 quantization, or a smaller "
            "model (model.fc_units sets the largest layer)"
        )


def convert(saved_model_dir, quantization):
    """The TFLite flatbuffer (bytes) of a SavedModel's `serving_default`."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(
            f"`quantization` must be one of {QUANTIZATIONS}. "
            f"Received: quantization={quantization!r}"
        )
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, ["serving_default"])
    if quantization in ("float16", "dynamic"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


@contextlib.contextmanager
def _float32_savedmodel(model, calibration):
    """A temporary SavedModel of `model`'s signatures (a float32 twin of a mixed model)."""
    module = serving_module(model, calibration)
    with tempfile.TemporaryDirectory(prefix="depnet-tflite-") as folder:
        tf.saved_model.save(module, folder, signatures=signatures(module))
        yield folder


def export_tflite(model, saved_model_dir, path, quantization, metadata, calibration=None):
    """Write `path` (.tflite) and `path` + `.json` (input spec, outputs, bands).

    It converts the exported SavedModel `saved_model_dir`; with `None` there it
    converts `model`'s own signatures (with `calibration`) instead, as for the
    float32 twin of a mixed-precision model: TFLite's builtin kernels compute
    in float32 (its `float16` quantization only stores the weights in 16 bits).
    """
    check_flatbuffer_size(model.count_params(), quantization)
    source = (
        local_copy(saved_model_dir)
        if saved_model_dir is not None
        else _float32_savedmodel(model, calibration)
    )
    with source as local:
        flatbuffer = convert(local, quantization)
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as file:
            file.write(flatbuffer)
    write_sidecar(path, metadata, format="tflite", quantization=quantization)
    return path


class LiteRTRunner(Runner):
    """Run a `.tflite` DepNet with the LiteRT interpreter (`ai_edge_litert`).

    A batch of K samples is one invoke: the signature runner resizes the input.
    """

    def __init__(self, path):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelFileError(f"{path}: running TFLite needs LiteRT: {INSTALL_HINT}") from None

        kind = describe_file(path)
        problems = {
            "missing": "no such .tflite file",
            "folder": "no such .tflite file",
            "savedmodel": "no such .tflite file",
            "empty": "empty (0 bytes)",
        }
        if kind != "tflite":
            reason = problems.get(kind, "not a TFLite flatbuffer (truncated or damaged)")
            raise ModelFileError(f"{path}: {reason}")
        try:
            if is_url(path):
                with open_file(path) as file:
                    self.interpreter = Interpreter(model_content=file.read())
            else:
                self.interpreter = Interpreter(model_path=path)
            self.runner = self.interpreter.get_signature_runner("serving_default")
        except (ValueError, RuntimeError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
            raise ModelFileError(f"{path}: cannot load the TFLite model ({reason})") from None
        inputs = self.runner.get_input_details()
        if "frames" not in inputs:
            raise ModelFileError(f"{path}: not a depnet_tf export (inputs {sorted(inputs)})")
        details = inputs["frames"]
        super().__init__(path, details["shape"], *sidecar_record(path))
        self.dtype = details["dtype"]

    def run(self, samples):
        return self.runner(frames=samples.astype(self.dtype))
