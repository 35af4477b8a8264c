"""TF-Serving warm-up requests: `assets.extra/tf_serving_warmup_requests` of a version.

TF-Serving compiles a model's graph on the first request unless the version
ships warm-up requests, which it replays while loading it. The file is a
TFRecord of `PredictionLog` protos (from `tensorflow-serving-api`), here one
`PredictRequest` per signature: a mid-grey clip for `serving_default` and its
PNG bytes for `serving_encoded`.
"""

import cv2
import numpy as np
import tensorflow as tf

from depnet_tf.errors import ExportError

INSTALL_HINT = "pip install tensorflow-serving-api"


def _protos():
    try:
        from tensorflow_serving.apis import predict_pb2, prediction_log_pb2
    except ImportError:
        raise ExportError(f"warm-up requests need tensorflow-serving-api: {INSTALL_HINT}") from None
    return predict_pb2, prediction_log_pb2


def warmup_inputs(model):
    """{signature name: {input name: numpy array}} of the warm-up requests (batch of 1)."""
    config, sequence = model.config, model.architecture.is_sequence
    frame = np.full((config.image_size, config.image_size, 3), 128, np.uint8)
    ok, png = cv2.imencode(".png", frame)
    assert ok
    steps = (config.num_frames,) if sequence else ()
    return {
        "serving_default": {"frames": np.broadcast_to(frame, (1, *steps, *frame.shape)).copy()},
        "serving_encoded": {"frames_encoded": np.full((1, *steps), png.tobytes(), dtype=object)},
    }


def write_warmup_requests(path, model, name):
    """Write the TFRecord of PredictionLogs TF-Serving replays for model `name`."""
    predict_pb2, prediction_log_pb2 = _protos()
    with tf.io.TFRecordWriter(path) as writer:
        for signature, inputs in warmup_inputs(model).items():
            request = predict_pb2.PredictRequest()
            request.model_spec.name = name
            request.model_spec.signature_name = signature
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(path):
    """[(signature name, {input name: numpy array})] of a warm-up file."""
    _, prediction_log_pb2 = _protos()
    requests = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        inputs = {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()}
        requests.append((request.model_spec.signature_name, inputs))
    return requests
