import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from depnet_tf.export import export_savedmodel
from depnet_tf.export.savedmodel import severity_in_graph
from depnet_tf.severity import severity_band

CHECK = """
import sys, numpy as np, tensorflow as tf
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
clips = np.load(sys.argv[2])
out = serve(frames=tf.constant(clips))
np.savez(sys.argv[3], bdi_ii=out["bdi_ii"].numpy(), severity=out["severity"].numpy())
"""


def clips(n=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 3, 32, 32, 3), dtype=np.uint8)


def test_tf_serving_layout(exported):
    out, target = exported
    assert os.path.isfile(os.path.join(target, "saved_model.pb"))
    assert os.path.isdir(os.path.join(target, "variables"))
    config = (out / "models.config").read_text()
    assert "name: 'depnet'" in config and "base_path: '/models/depnet'" in config
    assert "model_platform: 'tensorflow'" in config
    request = json.loads((out / "depnet" / "request.example.json").read_text())
    assert np.asarray(request["instances"][0]["frames"]).shape == (3, 32, 32, 3)
    assert not [n for n in os.listdir(out / "depnet") if n.startswith(".tmp-")]


def test_fresh_process_matches_keras(exported, small_model, tmp_path):
    model, _ = small_model
    _, target = exported
    batch = clips()
    np.save(tmp_path / "clips.npy", batch)
    subprocess.run(
        [
            sys.executable,
            "-c",
            CHECK,
            target,
            str(tmp_path / "clips.npy"),
            str(tmp_path / "out.npz"),
        ],
        check=True,
        capture_output=True,
    )
    out = np.load(tmp_path / "out.npz")
    expected = model.predict(batch.astype("float32"), verbose=0)[:, 0]
    np.testing.assert_allclose(out["bdi_ii"], expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(out["severity"], severity_band(expected))
    assert out["bdi_ii"].dtype == np.float32 and out["severity"].dtype == np.int32


def test_every_weight_is_stored_once(exported, small_model):
    # keras-team/keras#23553: ExportArchive writes each weight twice.
    model, _ = small_model
    _, target = exported
    reader = tf.train.load_checkpoint(os.path.join(target, "variables", "variables"))
    stored = {k: s for k, s in reader.get_variable_to_shape_map().items() if "VARIABLE_VALUE" in k}
    weights = sum(int(np.prod(s)) for k, s in stored.items())
    assert weights == model.count_params()


def test_saved_model_cli_lists_the_signature(exported):
    _, target = exported
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run(
        [cli, "show", "--dir", target, "--all"], check=True, capture_output=True, text=True
    ).stdout
    serving = shown[shown.index("signature_def['serving_default']") :]
    assert "inputs['frames'] tensor_info:" in serving and "dtype: DT_UINT8" in serving
    assert "shape: (-1, 3, 32, 32, 3)" in serving
    assert "outputs['bdi_ii'] tensor_info:" in serving and "DT_FLOAT" in serving
    assert "outputs['severity'] tensor_info:" in serving and "DT_INT32" in serving


def test_wrong_dtype_and_shape_are_refused(exported):
    _, target = exported
    serve = tf.saved_model.load(target).signatures["serving_default"]
    with pytest.raises(
        (TypeError, ValueError, tf.errors.InvalidArgumentError), match="uint8|dtype"
    ):
        serve(frames=tf.constant(clips().astype(np.float32)))
    with pytest.raises(
        (TypeError, ValueError, tf.errors.InvalidArgumentError), match="shape|Shape"
    ):
        serve(frames=tf.constant(np.zeros((1, 5, 32, 32, 3), np.uint8)))


def test_existing_version_needs_force(small_model, exported):
    model, _ = small_model
    out, target = exported
    with pytest.raises(ValueError, match="exists; pick another `version` or pass force=True"):
        export_savedmodel(model, out, "depnet", 1)
    stamp = os.path.getmtime(os.path.join(target, "saved_model.pb"))
    assert export_savedmodel(model, out, "depnet", 1, force=True) == target
    assert os.path.getmtime(os.path.join(target, "saved_model.pb")) >= stamp


def test_severity_in_graph_equals_table_1():
    scores = np.array([0, 13.4, 13.6, 19.4, 19.6, 28, 28.6, 63, 80, -3], np.float32)
    np.testing.assert_array_equal(
        severity_in_graph(tf.constant(scores)).numpy(), severity_band(scores)
    )
