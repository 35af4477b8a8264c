import numpy as np
import pytest

from depnet_tf import DepNetConfig, build_model
from depnet_tf.constants import ARCH_NAMES
from depnet_tf.models import ARCHS, REGISTRY, SEQUENCE_ARCHS, architecture

SMALL = DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=4)


def test_the_table_lists_the_papers_four_models():
    assert ARCHS == ARCH_NAMES == ("depnet", "senet-single", "resnet50-single", "resnet50-sequence")
    assert SEQUENCE_ARCHS == ("depnet", "resnet50-sequence")
    assert {a.backbone.name for a in REGISTRY.values()} == {"senet50", "resnet50"}
    with pytest.raises(ValueError, match="`arch` must be one of"):
        architecture("vgg")


@pytest.mark.parametrize("arch", ARCHS)
def test_models_follow_their_entry(arch):
    spec = architecture(arch)
    model = build_model(arch, SMALL)
    assert model.architecture is spec
    assert model.input.name == spec.input_name
    assert tuple(model.input_shape[1:]) == spec.input_shape(SMALL)
    assert model.backbone.name == spec.backbone.name
    assert list(model.get_layer("preprocess").mean) == list(spec.backbone.mean_bgr)
    # The model owns its cache feature extractor: per frame, the head's per-frame input.
    extractor = model.feature_extractor()
    frame = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    features = extractor.predict(frame, verbose=0)
    assert features.shape == (2, model.head_input_shape[-1])
    spec_dict = model.feature_spec()
    assert spec_dict["arch"] == arch and spec_dict["feature_shape"] == [features.shape[1]]
    assert (spec_dict["stem"] is not None) == spec.backbone.uses_stem


def test_sequence_features_match_the_full_model():
    model = build_model("depnet", SMALL)
    clip = np.random.default_rng(1).uniform(0, 255, (1, 3, 32, 32, 3)).astype("float32")
    per_frame = model.feature_extractor().predict(clip[0], verbose=0)
    head = model.head_model().predict(per_frame[None], verbose=0)
    np.testing.assert_allclose(head, model.predict(clip, verbose=0), rtol=1e-5, atol=1e-5)
