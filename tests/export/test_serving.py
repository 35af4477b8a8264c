"""The SavedModel's warm-up requests and its `serving_encoded` signature."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow as tf

from depnet_tf.export import export_savedmodel
from depnet_tf.export.savedmodel import WARMUP
from depnet_tf.export.warmup import read_warmup_requests, warmup_inputs
from tests.cli.process import depnet
from tests.training.workspace import write_frames

REPLAY = """
import sys, json, numpy as np, tensorflow as tf
from depnet_tf.export.warmup import read_warmup_requests
signatures = tf.saved_model.load(sys.argv[1]).signatures
out = []
for name, inputs in read_warmup_requests(sys.argv[2]):
    result = signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
    out.append([name, result["bdi_ii"].numpy().tolist()])
print(json.dumps(out))
"""


def test_warmup_requests_replay_in_a_fresh_process(exported, small_model):
    model, _ = small_model
    _, target = exported
    warmup = os.path.join(target, WARMUP)
    requests = read_warmup_requests(warmup)
    assert [name for name, _ in requests] == ["serving_default", "serving_encoded"]
    replayed = json.loads(
        subprocess.run(
            [sys.executable, "-c", REPLAY, target, warmup],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    grey = warmup_inputs(model)["serving_default"]["frames"].astype("float32")
    expected = model.predict(grey, verbose=0)[:, 0]
    for name, scores in replayed:
        np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4, err_msg=name)


def test_no_warmup(small_model, tmp_path):
    model, _ = small_model
    target = export_savedmodel(model, tmp_path, "depnet", 1, warmup=False)
    assert not os.path.exists(os.path.join(target, WARMUP))


def encode(frames, extension, quality=95):
    flags = [cv2.IMWRITE_JPEG_QUALITY, quality] if extension == ".jpg" else []
    return [
        cv2.imencode(extension, cv2.cvtColor(f, cv2.COLOR_RGB2BGR), flags)[1].tobytes()
        for f in frames
    ]


def test_encoded_frames_score_as_their_pixels(exported):
    _, target = exported
    signatures = tf.saved_model.load(target).signatures
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), (32, 32))  # smooth
    clip = np.stack([np.roll(base, shift, axis=1) for shift in range(3)])[None]
    pixels = signatures["serving_default"](frames=tf.constant(clip))["bdi_ii"].numpy()
    png = np.array([encode(clip[0], ".png")], dtype=object)
    lossless = signatures["serving_encoded"](frames_encoded=tf.constant(png.tolist()))
    np.testing.assert_allclose(lossless["bdi_ii"].numpy(), pixels, rtol=1e-5, atol=1e-5)
    jpeg = encode(clip[0], ".jpg", 95)
    from_jpeg = signatures["serving_encoded"](frames_encoded=tf.constant([jpeg]))["bdi_ii"].numpy()
    decoded = np.stack([tf.io.decode_jpeg(j, channels=3).numpy() for j in jpeg])[None]
    as_pixels = signatures["serving_default"](frames=tf.constant(decoded))["bdi_ii"].numpy()
    # The encoded signature adds no error of its own: JPEG's error is all there is.
    np.testing.assert_allclose(from_jpeg, as_pixels, rtol=1e-5, atol=1e-5)
    assert abs(float(from_jpeg[0] - pixels[0])) < 0.5


@pytest.mark.large
def test_predict_through_the_encoded_signature(exported, tmp_path):
    _, target = exported
    write_frames(str(tmp_path), videos=1, frames=6)
    frames = tmp_path / "v0_aligned"
    scores = []
    for signature in ("serving_default", "serving_encoded"):
        result = depnet(
            "predict", frames, "--model", target, "--clips", 2, "--json", "--signature", signature
        )
        assert result.returncode == 0, result.stderr
        scores.append(json.loads(result.stdout)["bdi_ii"])
    assert scores[1] == pytest.approx(scores[0], abs=1e-4)
