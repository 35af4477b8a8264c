import os
import pickle

import numpy as np
import pytest

from depnet_tf import DepNetConfig, SENet50, build_depnet
from depnet_tf.weights import (
    WeightsError,
    cached_vggface2,
    convert_weights,
    load_vggface2,
    resolve_vggface2,
)
from tests.weights.reference import (
    keras_vggface_layers,
    numpy_forward,
    random_state_dict,
    write_keras_vggface_h5,
    write_pytorch_pickle,
)

SIZE = 32


@pytest.fixture(scope="module")
def state():
    return random_state_dict(seed=7, classes=10)


@pytest.fixture(scope="module")
def notop_state(state):
    return {k: v for k, v in state.items() if not k.startswith("fc.")}


@pytest.fixture(scope="module")
def notop_h5(tmp_path_factory, notop_state):
    path = tmp_path_factory.mktemp("h5") / "rcmalli_vggface_tf_notop_senet50.h5"
    write_keras_vggface_h5(path, keras_vggface_layers(notop_state))
    return path


@pytest.fixture(scope="module")
def notop_pkl(tmp_path_factory, notop_state):
    path = tmp_path_factory.mktemp("pkl") / "senet50_ft_weight.pkl"
    write_pytorch_pickle(path, notop_state)
    return path


@pytest.fixture
def images():
    return np.random.default_rng(3).normal(0, 50, (2, SIZE, SIZE, 3)).astype("float32")


def assert_features_match_numpy(model, state, images, stem):
    ours = model.predict(images, verbose=0)
    reference = numpy_forward(state, images, stem)
    assert ours.shape == reference.shape
    scale = np.abs(reference).max()
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4 * scale)


def assert_every_variable_equals_the_file(model, layers):
    seen = 0
    for name, weights in layers:
        if not weights or name == "classifier" and not model.include_top:
            continue
        layer = model.get_layer(name.replace("/", "_"))
        for variable, (_, array) in zip(layer.weights, weights):
            np.testing.assert_array_equal(variable.numpy(), array)
            seen += 1
    assert seen == len(model.weights)


@pytest.mark.parametrize("model_weights_group", [False, True])
def test_keras_vggface_h5_without_top(tmp_path, notop_state, images, model_weights_group):
    path = tmp_path / "rcmalli_vggface_tf_notop_senet50.h5"
    layers = keras_vggface_layers(notop_state)
    write_keras_vggface_h5(path, layers, model_weights_group)
    model = SENet50(input_shape=(SIZE, SIZE, 3))
    report = load_vggface2(model, path)
    assert report.ok and len(report.assigned) == len([x for x in model.layers if x.weights])
    assert_every_variable_equals_the_file(model, layers)
    assert_features_match_numpy(model, notop_state, images, "vggface")


def test_keras_vggface_h5_with_top(tmp_path, state, images):
    path = tmp_path / "top.h5"
    layers = keras_vggface_layers(state)
    write_keras_vggface_h5(path, layers)
    with_top = SENet50(input_shape=(SIZE, SIZE, 3), include_top=True, classes=10)
    assert "classifier" in load_vggface2(with_top, path).assigned
    assert_every_variable_equals_the_file(with_top, layers)
    features = numpy_forward(state, images, "vggface").mean(axis=(1, 2))
    logits = features @ state["fc.weight"].T + state["fc.bias"]
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(with_top.predict(images, verbose=0), expected, rtol=1e-4, atol=1e-6)

    no_top = SENet50(input_shape=(SIZE, SIZE, 3))
    report = load_vggface2(no_top, path)
    assert report.ok and report.ignored == ["classifier"]
    assert "ignored [classifier]" in report.summary()


def test_pytorch_pickle_caffe_stem(tmp_path, state, images):
    path = tmp_path / "senet50_ft_weight.pkl"
    write_pytorch_pickle(path, state)
    model = SENet50(input_shape=(SIZE, SIZE, 3), stem="caffe")
    report = load_vggface2(model, path)
    assert report.ok and report.ignored == ["classifier"]
    assert_every_variable_equals_the_file(model, keras_vggface_layers(state))
    assert_features_match_numpy(model, state, images, "caffe")


def test_python2_style_pickle_is_read(tmp_path, notop_state):
    # The real files come from Python 2; latin1 decoding of str-pickled arrays.
    path = tmp_path / "py2.pkl"
    with open(path, "wb") as f:
        pickle.dump(dict(notop_state), f, protocol=0)
    report = load_vggface2(SENet50(input_shape=(SIZE, SIZE, 3), stem="caffe"), path)
    assert report.ok


def test_loads_into_the_backbone_inside_depnet(notop_h5, notop_state):
    path = notop_h5
    config = DepNetConfig(num_frames=2, image_size=SIZE, fc_units=4, backbone_weights=str(path))
    model = build_depnet(config)
    np.testing.assert_array_equal(
        model.backbone.get_layer("conv1_7x7_s2").kernel.numpy(),
        np.transpose(notop_state["conv1.weight"], (2, 3, 1, 0)),
    )
    assert not model.backbone.trainable


def test_senet50_weights_argument_takes_a_path(tmp_path, state):
    path = tmp_path / "ft.pkl"
    write_pytorch_pickle(path, state)
    model = SENet50(input_shape=(SIZE, SIZE, 3), stem="caffe", weights=str(path))
    np.testing.assert_array_equal(
        model.get_layer("conv5_3_1x1_up").bias.numpy(), state["layer4.2.conv5.bias"]
    )
    assert "weights" not in model.get_config()


@pytest.mark.parametrize("stem, write", [("vggface", "h5"), ("caffe", "pkl")])
def test_convert_to_our_weights_h5_and_load_it(
    tmp_path, notop_state, notop_h5, notop_pkl, images, stem, write
):
    source = notop_h5 if write == "h5" else notop_pkl
    destination = tmp_path / "senet50.weights.h5"
    convert_weights(source, destination)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]
    model = SENet50(input_shape=(SIZE, SIZE, 3), stem=stem)
    assert load_vggface2(model, destination).ok
    assert_features_match_numpy(model, notop_state, images, stem)


def test_vggface2_uses_keras_vggface_cache_first(tmp_path, monkeypatch, notop_state):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cache = tmp_path / "models" / "vggface"
    cache.mkdir(parents=True)
    cached = cache / "rcmalli_vggface_tf_notop_senet50.h5"
    write_keras_vggface_h5(cached, keras_vggface_layers(notop_state))
    monkeypatch.setenv("DEPNET_VGGFACE2_URL", "http://127.0.0.1:9/never/")
    assert resolve_vggface2(include_top=False) == str(cached)
    model = SENet50(input_shape=(SIZE, SIZE, 3), weights="vggface2")
    np.testing.assert_array_equal(
        model.get_layer("conv1_7x7_s2_bn").gamma.numpy(), notop_state["bn1.weight"]
    )


def test_cached_vggface2_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert cached_vggface2(include_top=False) is None
    cache = tmp_path / "models" / "vggface"
    cache.mkdir(parents=True)
    (cache / "rcmalli_vggface_tf_notop_senet50.h5").write_bytes(b"")
    assert cached_vggface2(include_top=False) == str(cache / "rcmalli_vggface_tf_notop_senet50.h5")
    assert cached_vggface2(include_top=True) is None  # a file without top cannot serve a top
    (cache / "rcmalli_vggface_tf_senet50.h5").write_bytes(b"")
    assert cached_vggface2(include_top=True) == str(cache / "rcmalli_vggface_tf_senet50.h5")


def test_vggface2_downloads_from_the_release_url(tmp_path, monkeypatch, notop_state):
    release = tmp_path / "release"
    release.mkdir()
    write_keras_vggface_h5(
        release / "rcmalli_vggface_tf_notop_senet50.h5", keras_vggface_layers(notop_state)
    )
    home = tmp_path / "home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("DEPNET_VGGFACE2_URL", release.as_uri())
    path = resolve_vggface2(include_top=False)
    assert path == str(home / "models" / "vggface" / "rcmalli_vggface_tf_notop_senet50.h5")
    # The file and the digest it arrived with, nothing else (no temporaries).
    assert sorted(os.listdir(os.path.dirname(path))) == [
        "rcmalli_vggface_tf_notop_senet50.h5",
        "rcmalli_vggface_tf_notop_senet50.h5.sha256",
    ]
    assert load_vggface2(SENet50(input_shape=(SIZE, SIZE, 3)), "vggface2").ok


def test_vggface2_offline_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("DEPNET_VGGFACE2_URL", "http://127.0.0.1:9/")
    with pytest.raises(WeightsError) as error:
        SENet50(input_shape=(SIZE, SIZE, 3), weights="vggface2")
    message = str(error.value)
    assert "\n" not in message
    assert (
        f"{tmp_path}/models/vggface/" in message
        and "rcmalli_vggface_tf_notop_senet50.h5" in message
    )
    assert not list((tmp_path / "models" / "vggface").iterdir())


# --- Bad files: one line, naming the file and the problem --------------------------


def one_line_error(model, path, match):
    with pytest.raises(WeightsError) as error:
        load_vggface2(model, path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message, message
    assert match in message, message
    return message


def test_truncated_hdf5(tmp_path, notop_state):
    path = tmp_path / "truncated.h5"
    write_keras_vggface_h5(path, keras_vggface_layers(notop_state))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    one_line_error(SENet50(input_shape=(SIZE, SIZE, 3)), path, "truncated or corrupt")


def test_file_of_another_architecture(tmp_path):
    # A keras-vggface ResNet-50 file: same naming scheme, no SE units, no bias.
    path = tmp_path / "rcmalli_vggface_tf_notop_resnet50.h5"
    rng = np.random.default_rng(0)
    layers = [
        ("conv1/7x7_s2", [("conv1/7x7_s2/kernel:0", rng.normal(size=(7, 7, 3, 64)))]),
        ("conv2_1_1x1_reduce", [("conv2_1_1x1_reduce/kernel:0", rng.normal(size=(1, 1, 64, 32)))]),
        ("fc_resnet", [("fc_resnet/kernel:0", rng.normal(size=(2048, 4)))]),
    ]
    write_keras_vggface_h5(path, layers)
    message = one_line_error(SENet50(input_shape=(SIZE, SIZE, 3)), path, "model layers missing")
    assert "unexpected layers in the file [fc_resnet]" in message
    assert "conv2_1_1x1_reduce: file [(1, 1, 64, 32)] vs model [(1, 1, 64, 64)]" in message


def test_pickle_with_missing_keys(tmp_path, notop_state):
    path = tmp_path / "missing.pkl"
    write_pytorch_pickle(
        path, {k: v for k, v in notop_state.items() if not k.startswith("layer4.2.")}
    )
    message = one_line_error(
        SENet50(input_shape=(SIZE, SIZE, 3), stem="caffe"),
        path,
        "model layers missing from the file",
    )
    assert "conv5_3_1x1_reduce" in message


def test_pickle_with_shape_mismatch(tmp_path, notop_state):
    path = tmp_path / "mismatch.pkl"
    bad = dict(notop_state)
    bad["layer1.0.conv4.weight"] = np.zeros((8, 256, 1, 1), "float32")
    write_pytorch_pickle(path, bad)
    one_line_error(
        SENet50(input_shape=(SIZE, SIZE, 3), stem="caffe"),
        path,
        "conv2_1_1x1_down: file [(1, 1, 256, 8), (16,)] vs model [(1, 1, 256, 16), (16,)]",
    )


def test_wrong_stem_says_how_to_fix_it(notop_h5, notop_pkl):
    one_line_error(SENet50(input_shape=(SIZE, SIZE, 3)), notop_pkl, "SENet50(stem='caffe')")
    one_line_error(
        SENet50(input_shape=(SIZE, SIZE, 3), stem="caffe"), notop_h5, "need stem='vggface'"
    )


def test_missing_empty_and_garbage_files(tmp_path):
    model = SENet50(input_shape=(SIZE, SIZE, 3))
    one_line_error(model, tmp_path / "nope.h5", "no such weight file")
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    one_line_error(model, empty, "empty")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a weight file at all")
    one_line_error(model, garbage, "neither an HDF5 nor a pickle")


def test_pickle_with_code_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    with open(path, "wb") as f:
        pickle.dump({"conv1.weight": os.getcwd}, f)
    one_line_error(SENet50(input_shape=(SIZE, SIZE, 3), stem="caffe"), path, "posix.getcwd")


def test_unknown_torch_keys_are_reported(tmp_path, notop_state):
    path = tmp_path / "extra.pkl"
    write_pytorch_pickle(path, {**notop_state, "layer9.0.conv1.weight": np.zeros(1, "float32")})
    one_line_error(
        SENet50(input_shape=(SIZE, SIZE, 3), stem="caffe"), path, "torch:layer9.0.conv1.weight"
    )


def test_non_strict_loads_what_fits_and_warns(tmp_path, notop_state):
    path = tmp_path / "partial.pkl"
    write_pytorch_pickle(
        path, {k: v for k, v in notop_state.items() if not k.startswith("layer4.")}
    )
    model = SENet50(input_shape=(SIZE, SIZE, 3), stem="caffe")
    with pytest.warns(UserWarning, match="NOT LOADED"):
        report = load_vggface2(model, path, strict=False)
    assert not report.ok and "conv5_1_1x1_reduce" in report.missing
    np.testing.assert_array_equal(
        model.get_layer("conv1_7x7_s2_bn").beta.numpy(), notop_state["bn1.bias"]
    )


def test_resnet_baseline_has_no_senet(notop_h5):
    from depnet_tf import build_model

    path = notop_h5
    model = build_model("resnet50-single", DepNetConfig(image_size=SIZE, fc_units=4))
    with pytest.raises(WeightsError, match="no SENet50 backbone"):
        load_vggface2(model, path)
