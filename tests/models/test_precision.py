"""DepNet under each precision: Keras' harness, float32 scores, `.keras` files, closeness."""

import json

import keras
import numpy as np
import pytest

from depnet_tf import DepNetConfig, DepressionRegressor, build_model
from depnet_tf.layers.precision import PRECISIONS
from tests.cli.process import python
from tests.harness import POLICIES, LayerHarness, parameterized

TINY = DepNetConfig(num_frames=2, image_size=32, branch_filters=2, hlf_channels=2, fc_units=4)
SMALL = DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=8)
# Unit roundoff of each compute dtype: 8 significand bits for bfloat16, 11 for float16.
UNIT_ROUNDOFF = {"float32": 2.0**-24, "mixed_bfloat16": 2.0**-8, "mixed_float16": 2.0**-11}


def frames(batch=4, config=SMALL, seed=0):
    shape = (batch, config.num_frames, config.image_size, config.image_size, 3)
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


class RegressorHarnessTest(LayerHarness):
    @parameterized.named_parameters(*POLICIES)
    def test_keras_harness(self, precision):
        # Without `precision` the config takes the global policy; Keras' own
        # mixed-precision check passes dtype="mixed_float16" to the constructor.
        # The score stays float32 under every policy.
        config = {k: v for k, v in TINY.to_dict().items() if k != "precision"}
        self.check(
            precision,
            DepressionRegressor,
            {"arch": "depnet", "config": config},
            input_shape=(2, 2, 32, 32, 3),
            output_dtype="float32",
            expected_output_shape=(2, 1),
        )


@pytest.mark.parametrize("precision", PRECISIONS)
def test_variables_stay_float32_and_the_score_is_float32(precision):
    model = build_model("depnet", SMALL.replace(precision=precision))
    compute = keras.DTypePolicy(precision).compute_dtype
    assert model.output.dtype == "float32"
    assert model.predict(frames(), verbose=0).dtype == np.float32
    assert {w.dtype for w in model.weights} == {"float32"}
    # Everything before the score computes in the policy's dtype.
    assert model.get_layer("llf").output.dtype == compute
    assert model.get_layer("hlf").output.dtype == compute
    assert model.backbone.get_layer("conv5_3_relu").dtype_policy.name == precision
    assert model.dtype_policy.name == precision


def test_the_global_policy_is_the_default_and_a_constructor_dtype_wins():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        assert DepNetConfig().precision == "mixed_bfloat16"
        assert DepressionRegressor("senet-single", TINY).config.precision == "float32"
    finally:
        keras.config.set_dtype_policy("float32")
    model = DepressionRegressor("senet-single", TINY, dtype="mixed_float16")
    assert model.config.precision == "mixed_float16"
    with pytest.raises(ValueError, match="precision must be one of"):
        DepNetConfig(precision="float64")


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_16_bit_scores_stay_close_to_float32(precision):
    """Same weights, scores in a BDI-II-like range: the gap is a few unit roundoffs.

    Each layer rounds its result to the compute dtype (relative error at most u);
    a handful of layers with mostly non-cancelling errors give a few u of the
    score's scale. A score rounded to the bfloat16 grid alone would move by up to
    u * |score|; the bound is 8 u * max |score|, far under one BDI-II point for float16.
    """
    keras.utils.set_random_seed(0)
    reference = build_model("depnet", SMALL)
    kernel, bias = reference.get_layer("bdi_ii").get_weights()
    reference.get_layer("bdi_ii").set_weights([kernel * 10, bias + 20])
    x = frames(batch=8)
    expected = reference.predict(x, verbose=0)
    model = build_model("depnet", SMALL.replace(precision=precision))
    model.set_weights(reference.get_weights())
    actual = model.predict(x, verbose=0)
    scale = np.abs(expected).max()
    assert scale > 10
    np.testing.assert_allclose(actual, expected, atol=8 * UNIT_ROUNDOFF[precision] * scale)
    assert not np.array_equal(actual, expected)  # it did compute in 16 bits


RELOAD = """
import json, sys
import keras, numpy as np
import depnet_tf.models  # registers the custom objects
folder = sys.argv[1]
x = np.load(folder + "/frames.npy")
for precision in json.loads(sys.argv[2]):
    model = keras.saving.load_model(f"{folder}/{precision}.keras")
    assert model.config.precision == precision, model.config.precision
    assert model.backbone.dtype_policy.name == precision
    np.save(f"{folder}/{precision}.reloaded.npy", model.predict(x, verbose=0))
"""


def test_keras_files_reload_in_a_fresh_process_with_identical_scores(tmp_path):
    x = frames(batch=2, config=TINY)
    np.save(tmp_path / "frames.npy", x)
    expected = {}
    for precision in PRECISIONS:
        model = build_model("depnet", TINY.replace(precision=precision))
        model.save(tmp_path / f"{precision}.keras")
        expected[precision] = model.predict(x, verbose=0)
    python(RELOAD, tmp_path, json.dumps(list(PRECISIONS)))
    for precision in PRECISIONS:
        actual = np.load(tmp_path / f"{precision}.reloaded.npy")
        np.testing.assert_array_equal(actual, expected[precision], err_msg=precision)
