"""ONNX export of the serving function through `tf2onnx`, checked with `onnxruntime`.

The ONNX graph has the SavedModel's signature: `frames` uint8 [None, T, S, S, 3]
in, `bdi_ii` float32 [None] and `severity` int32 [None] out, preprocessing inside.
"""

from depnet_tf.errors import ExportError, ModelFileError
from depnet_tf.export.runner import Runner, sidecar_record
from depnet_tf.export.savedmodel import serving_function, write_sidecar
from depnet_tf.files import atomic_path, isfile, open_file

PROTOBUF_LIMIT = 2**31  # a single ONNX protobuf cannot exceed 2 GB
# tf2onnx 1.17 holds many copies of the frozen weights while it converts: its peak
# memory was 9.8 GB for a 34.5M-weight DepNet (64 px) and 16.5 GB for 59.7M (112 px),
# about 280 bytes per weight; the default 128.9M-weight model needs ~34 GB.
CONVERSION_BYTES_PER_WEIGHT = 280
DEFAULT_OPSET = 17
INSTALL_HINT = "ONNX export needs tf2onnx and onnxruntime: pip install tf2onnx onnxruntime"


def _require(module):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExportError(INSTALL_HINT) from None


def check_protobuf_size(parameters):
    """Refuse an export whose float32 weights alone would pass the 2 GB protobuf limit."""
    estimate = parameters * 4
    if estimate >= PROTOBUF_LIMIT:
        raise ExportError(
            f"an ONNX file would hold about {estimate / 2**30:.1f} GB of float32 weights, over "
            "the 2 GB protobuf limit; use a smaller model (model.fc_units sets the largest layer)"
        )


def available_memory():
    """Physical memory free for a new allocation, in bytes (None where unknown)."""
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_conversion_memory(parameters, available=None):
    """Refuse, before hours of swapping or an OOM kill, a conversion this machine cannot hold."""
    available = available_memory() if available is None else available
    needed = parameters * CONVERSION_BYTES_PER_WEIGHT
    if available is not None and needed > available:
        raise ExportError(
            f"tf2onnx needs about {needed / 2**30:.0f} GB of memory to convert this model "
            f"({parameters:,} weights, ~{CONVERSION_BYTES_PER_WEIGHT} bytes each while "
            "converting); "
            f"{available / 2**30:.0f} GB is available. Export ONNX on a larger machine, or use the "
            "SavedModel or TFLite export (model.fc_units sets the largest layer)"
        )


def export_onnx(model, path, metadata, opset=DEFAULT_OPSET, calibration=None):
    """Write `path` (.onnx) and `path` + `.json` (input spec, outputs, bands)."""
    tf2onnx = _require("tf2onnx")
    check_protobuf_size(model.count_params())
    check_conversion_memory(model.count_params())
    serve = serving_function(model, calibration)
    with atomic_path(path) as temporary:
        tf2onnx.convert.from_function(
            serve, input_signature=serve.input_signature, opset=opset, output_path=temporary
        )
    write_sidecar(path, metadata, format="onnx", opset=opset)
    return path


class OnnxRunner(Runner):
    """Run a `.onnx` DepNet with `onnxruntime` on the CPU."""

    def __init__(self, path):
        try:
            import onnxruntime
        except ImportError:
            raise ModelFileError(
                f"{path}: running ONNX needs onnxruntime: pip install onnxruntime"
            ) from None
        if not isfile(path):
            raise ModelFileError(f"{path}: no such .onnx file")
        with open_file(path) as file:
            content = file.read()
        if not content:
            raise ModelFileError(f"{path}: the model file is empty (0 bytes)")
        try:
            self.session = onnxruntime.InferenceSession(content, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own untyped errors for bad files
            reason = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
            raise ModelFileError(f"{path}: cannot load the ONNX model ({reason})") from None
        inputs = {i.name: i for i in self.session.get_inputs()}
        if "frames" not in inputs:
            raise ModelFileError(
                f"{path}: not a DepNet export (no 'frames' input; has {sorted(inputs)})"
            )
        super().__init__(path, [None, *inputs["frames"].shape[1:]], *sidecar_record(path))
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, samples):
        return dict(zip(self.outputs, self.session.run(None, {"frames": samples})))
