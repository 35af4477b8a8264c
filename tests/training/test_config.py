import pytest

from depnet_tf.training.config import merge_config, read_config


def test_shipped_configs_carry_the_papers_settings():
    for name in ("avec2013", "avec2014"):
        config = read_config(f"training/configs/{name}.yaml")
        train = config["train"]
        assert (train["base_lr"], train["lr_gamma"], train["lr_power"]) == (1e-5, 1e-4, 0.75)
        assert (train["momentum"], train["weight_decay"]) == (0.9, 5e-4)
        assert train["early_stop_iterations"] == 200
        assert config["model"]["num_frames"] == 5 and config["model"]["freeze_backbone"] is True
        assert name in config["data"]["manifest"]


def test_dotted_overrides():
    config = merge_config({}, {"train.max_epochs": 3, "model.fc_units": 16, "arch": "senet-single"})
    assert config["train"]["max_epochs"] == 3 and config["model"]["fc_units"] == 16
    assert config["arch"] == "senet-single" and config["train"]["base_lr"] == 1e-5


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"train.max_epoch": 3}, r"unknown config key 'train.max_epoch'"),
        ({"optimizer.lr": 3}, r"unknown config key 'optimizer'"),
        ({"model.fc_unit": 3}, r"Unknown DepNetConfig keys: \['fc_unit'\]"),
        ({"arch": "vit"}, r"'arch' must be one of"),
    ],
)
def test_unknown_keys_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        merge_config({}, overrides)


def test_bad_files(tmp_path):
    with pytest.raises(ValueError, match="no such config file"):
        read_config(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [1, 2\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        read_config(bad)
