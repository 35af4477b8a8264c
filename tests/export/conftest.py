import keras
import pytest

from depnet_tf import DepNetConfig, build_depnet
from depnet_tf.export import export_savedmodel

CONFIG = DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=8)


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    keras.utils.set_random_seed(3)
    model = build_depnet(CONFIG)
    model.get_layer("bdi_ii").bias.assign([20.0])  # scores in the BDI-II range
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    return model, path


@pytest.fixture(scope="session")
def exported(small_model, tmp_path_factory):
    model, _ = small_model
    out = tmp_path_factory.mktemp("serving")
    return out, export_savedmodel(model, out, "depnet", 1)
