import pytest

from depnet_tf.training.config import merge_config, read_config


def test_shipped_configs_carry_the_papers_settings():
    for name in ("avec2013", "avec2014"):
        config = read_config(name)  # shipped, by name
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


@pytest.mark.parametrize("dataset", ["avec2013", "avec2014"])
@pytest.mark.parametrize("arch", ["depnet", "senet-single", "resnet50-single", "resnet50-sequence"])
def test_eight_shipped_pairs_share_one_base(dataset, arch):
    config = read_config(f"{dataset}-{arch}")
    base = read_config("paper")
    assert config["arch"] == arch
    recipe = (
        "base_lr",
        "lr_gamma",
        "lr_power",
        "momentum",
        "weight_decay",
        "early_stop_iterations",
        "max_epochs",
    )
    assert {k: config["train"][k] for k in recipe} == {k: base["train"][k] for k in recipe}
    assert config["train"]["out_dir"] == f"runs/{dataset}-{arch}"
    single = arch.endswith("single")
    # The paper fine-tunes the single-image models on frames; sequence models train on the cache.
    assert config["train"]["end_to_end"] is single
    assert config["model"]["freeze_backbone"] is not single
    backbone = "resnet50" if arch.startswith("resnet50") else "senet50"
    assert config["model"]["backbone_weights"] == (
        "imagenet" if backbone == "resnet50" else "vggface2"
    )
    assert config["data"]["cache"] == f"data/{dataset}/cache-{backbone}"
    assert config["data"]["manifest"] == f"data/{dataset}/manifest.csv"


def test_base_files_and_their_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\ntrain: {max_epochs: 3}\n")
    (tmp_path / "b.yaml").write_text(
        "data: {batch_size: 4}\ntrain: {max_epochs: 9, base_lr: 0.1}\n"
    )
    config = read_config(tmp_path / "a.yaml")
    assert config["data"]["batch_size"] == 4
    assert (config["train"]["max_epochs"], config["train"]["base_lr"]) == (3, 0.1)
    (tmp_path / "loop.yaml").write_text("base: loop.yaml\n")
    with pytest.raises(ValueError, match="'base' files include each other"):
        read_config(tmp_path / "loop.yaml")
    (tmp_path / "bad.yaml").write_text("base: 3\n")
    with pytest.raises(ValueError, match="'base' must be a file name or a list"):
        read_config(tmp_path / "bad.yaml")
