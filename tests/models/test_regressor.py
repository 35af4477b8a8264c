import keras
import numpy as np
import pytest

from depnet_tf import ARCHS, DepNetConfig, DepressionRegressor, build_depnet, build_model
from depnet_tf.layers import preprocess_input
from tests.roundtrip import assert_config_roundtrip, assert_keras_file_roundtrip

SMALL = DepNetConfig(
    num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=8, dropout=0.5
)


def frames_for(model, batch=2, seed=0):
    shape = (batch, *model.input_shape[1:])
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


@pytest.mark.parametrize("arch", ARCHS)
def test_every_arch_predicts_and_roundtrips(arch, tmp_path):
    model = build_model(arch, SMALL)
    x = frames_for(model)
    assert model.predict(x, verbose=0).shape == (2, 1)
    clone = assert_config_roundtrip(model)
    assert clone.arch == arch and clone.config == SMALL
    reloaded = assert_keras_file_roundtrip(model, x, tmp_path)
    assert reloaded.config == SMALL


def test_sequence_and_single_inputs():
    assert build_model("depnet", SMALL).input_shape == (None, 3, 32, 32, 3)
    assert build_model("resnet50-sequence", SMALL).input_shape == (None, 3, 32, 32, 3)
    assert build_model("senet-single", SMALL).input_shape == (None, 32, 32, 3)
    assert build_model("resnet50-single", SMALL).input_shape == (None, 32, 32, 3)


@pytest.mark.parametrize("arch", ARCHS)
def test_frozen_backbone_leaves_only_fam_and_head_trainable(arch):
    model = build_model(arch, SMALL)
    trainable = {w.path.split("/")[0] for w in model.trainable_weights}
    expected = {"fc1", "bdi_ii"} | ({"hlf"} if "single" not in arch else set())
    assert trainable == expected
    assert not model.backbone.trainable
    unfrozen = build_model(arch, SMALL.replace(freeze_backbone=False))
    assert len(unfrozen.trainable_weights) > len(model.trainable_weights)


def test_frozen_backbone_does_not_change_in_fit():
    model = build_depnet(SMALL)
    x = frames_for(model, batch=4)
    before = [np.array(w) for w in model.backbone.weights]
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    model.fit(x, np.full((4, 1), 20.0), epochs=1, verbose=0)
    for b, w in zip(before, model.backbone.weights):
        np.testing.assert_array_equal(b, np.array(w))


def test_preprocessing_is_inside_the_model():
    model = build_depnet(SMALL)
    x = frames_for(model)
    llf = keras.Model(model.input, model.get_layer("llf").output)
    frame_features = model.backbone.predict(preprocess_input(x[:, 1]), verbose=0)
    np.testing.assert_allclose(
        llf.predict(x, verbose=0)[:, 1], frame_features, rtol=1e-4, atol=1e-4
    )


def test_head_model_shares_weights_with_the_full_model():
    model = build_depnet(SMALL)
    x = frames_for(model)
    features = keras.Model(model.input, model.get_layer("temporal_concat").output)
    head = model.head_model()
    assert head.input_shape == (None, 3, 1 * 1 * 256)
    np.testing.assert_allclose(
        head.predict(features.predict(x, verbose=0), verbose=0),
        model.predict(x, verbose=0),
        rtol=1e-5,
        atol=1e-5,
    )
    head.get_layer("bdi_ii").bias.assign([5.0])
    assert float(model.get_layer("bdi_ii").bias[0]) == 5.0
    assert {id(w) for w in head.weights} <= {id(w) for w in model.weights}


def test_unknown_arch_is_refused():
    with pytest.raises(ValueError, match="arch='lstm'"):
        build_model("lstm", SMALL)


def test_config_dict_is_accepted():
    assert DepressionRegressor("depnet", SMALL.to_dict()).config == SMALL


@pytest.mark.large
def test_paper_dimensions_at_224():
    model = build_depnet()
    assert model.input_shape == (None, 5, 224, 224, 3)
    assert model.get_layer("llf").output.shape == (None, 5, 7, 7, 2048)
    assert model.get_layer("channel_max_pool").output.shape == (None, 5, 7, 7, 256)
    assert model.get_layer("temporal_concat").output.shape == (None, 5, 12544)
    assert model.get_layer("hlf").output.shape == (None, 1, 12544, 64)
    assert model.output_shape == (None, 1)
    clip = np.random.default_rng(0).uniform(0, 255, (1, 5, 224, 224, 3)).astype("float32")
    assert np.isfinite(model.predict(clip, verbose=0)).all()


@pytest.mark.large
def test_parameter_counts_of_default_models():
    # The numbers quoted in the README.
    counts = {}
    for arch in ARCHS:
        model = build_model(arch)
        trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
        counts[arch] = (model.count_params(), trainable)
        keras.backend.clear_session()
    assert counts == {
        "depnet": (128_859_825, 102_767_681),
        "senet-single": (26_354_545, 262_401),
        "resnet50-single": (23_850_113, 262_401),
        "resnet50-sequence": (126_355_393, 102_767_681),
    }
