import pytest

from depnet_tf import DepNetConfig


def test_defaults_are_the_papers():
    config = DepNetConfig()
    assert config.num_frames == 5
    assert config.image_size == 224
    assert config.channel_pool == 8
    assert config.temporal_kernels == (3, 5, 9)
    assert config.hlf_channels == 64
    assert config.freeze_backbone is True
    assert config.backbone_weights is None
    assert config.stem == "vggface"


def test_dict_roundtrip():
    config = DepNetConfig(num_frames=3, temporal_kernels=[3, 5], dropout=0.25)
    values = config.to_dict()
    assert values["temporal_kernels"] == [3, 5]
    assert DepNetConfig.from_dict(values) == config


def test_unknown_keys_are_named():
    with pytest.raises(ValueError, match=r"Unknown DepNetConfig keys: \['frames'\]"):
        DepNetConfig.from_dict({"frames": 5})


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"channel_pool": 3}, "channel_pool must divide 2048.*channel_pool=3"),
        ({"num_frames": 0}, r"num_frames must be an integer in 1\.\.64 .*Received: num_frames=0"),
        ({"num_frames": 1_000_000}, r"num_frames must be an integer in 1\.\.64 \(one graph"),
        (
            {"image_size": 16},
            r"image_size must be an integer in 32\.\.1024 .*Received: image_size=16",
        ),
        ({"image_size": 4096}, r"image_size must be an integer in 32\.\.1024"),
        ({"image_size": 64.0}, "image_size=64.0"),
        ({"temporal_kernels": ()}, "temporal_kernels"),
        ({"temporal_kernels": (3, -1)}, "temporal_kernels"),
        # Not lists at all: one config error each, never a TypeError.
        ({"temporal_kernels": 5}, r"temporal_kernels must be a list.*Received: temporal_kernels=5"),
        ({"temporal_kernels": 3.5}, "temporal_kernels=3.5"),
        ({"temporal_kernels": None}, "temporal_kernels=None"),
        # A kernel longer than 2 x 64 - 1 frames would see only padding; 10**9 would
        # allocate gigabytes before any error.
        ({"temporal_kernels": (10**9,)}, r"integers in 1\.\.127"),
        ({"temporal_kernels": (3,) * 9}, r"1 to 8 integers"),
        ({"fc_units": 10**6}, r"fc_units must be an integer in 1\.\.4096"),
        ({"branch_filters": 0}, "branch_filters"),
        ({"fc_units": 0}, "fc_units"),
        ({"hlf_channels": True}, "hlf_channels"),
        ({"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
        ({"stem": "pytorch"}, "stem='pytorch'"),
        ({"backbone_weights": 3}, "backbone_weights=3"),
        ({"freeze_backbone": "yes"}, "freeze_backbone"),
    ],
)
def test_bad_values_raise_naming_field_and_range(changes, message):
    with pytest.raises(ValueError, match=message):
        DepNetConfig(**changes)
