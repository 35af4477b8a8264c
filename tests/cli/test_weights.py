import numpy as np
import pytest

from depnet_tf.cli.main import main
from tests.weights.reference import keras_vggface_layers, random_state_dict, write_keras_vggface_h5


@pytest.fixture(scope="module")
def h5_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "rcmalli_vggface_tf_notop_senet50.h5"
    write_keras_vggface_h5(path, keras_vggface_layers(random_state_dict(seed=1)))
    return path


def test_inspect_reports_format_and_fit(h5_file, capsys):
    assert main(["weights", "inspect", str(h5_file)]) == 0
    out = capsys.readouterr().out
    assert "keras-vggface HDF5 (stem='vggface')" in out
    assert "26,092,144 parameters" in out
    assert "fits SENet50(stem='vggface'): yes" in out


def test_inspect_a_file_that_does_not_fit(tmp_path, capsys):
    path = tmp_path / "other.h5"
    write_keras_vggface_h5(path, [("dense_1", [("dense_1/kernel:0", np.zeros((3, 2)))])])
    assert main(["weights", "inspect", str(path)]) == 1
    assert "NO: 138 model layers missing" in capsys.readouterr().out


def test_convert_writes_and_verifies(h5_file, tmp_path, capsys):
    destination = tmp_path / "senet50.weights.h5"
    assert main(["weights", "convert", str(h5_file), str(destination)]) == 0
    assert "verified" in capsys.readouterr().out
    assert main(["weights", "inspect", str(destination)]) == 0
    assert "depnet_tf .weights.h5" in capsys.readouterr().out


def test_convert_errors_are_one_line(tmp_path, capsys):
    assert (
        main(["weights", "convert", str(tmp_path / "missing.h5"), str(tmp_path / "x.weights.h5")])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "missing.h5: no such weight file" in err
    assert not (tmp_path / "x.weights.h5").exists()
