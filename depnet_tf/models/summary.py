"""A plain-text account of a built model: its stage shapes and parameter counts."""

import numpy as np

_STAGES = (
    "preprocess",
    "llf",
    "channel_max_pool",
    "temporal_concat",
    "hlf",
    "gap",
    "fc1",
    "bdi_ii",
)


def count(weights):
    return int(sum(np.prod(w.shape) for w in weights))


def stages(model):
    """The stage output shapes and parameter counts of a `DepressionRegressor`, as a dict."""
    names = {layer.name for layer in model.layers}
    return {
        "name": model.name,
        "arch": model.arch,
        "precision": model.config.precision,
        "input_shape": list(model.input_shape),
        "stages": {n: list(model.get_layer(n).output.shape) for n in _STAGES if n in names},
        "backbone_params": model.backbone.count_params(),
        "total_params": model.count_params(),
        "trainable_params": count(model.trainable_weights),
    }


def describe(model):
    """Stage-by-stage output shapes and parameter counts of a `DepressionRegressor`."""
    info = stages(model)
    lines = [
        f"{info['name']} ({info['arch']}, {info['precision']}): input {tuple(model.input_shape)}"
    ]
    for name in info["stages"]:
        lines.append(f"  {name:<18} {tuple(model.get_layer(name).output.shape)}")
    lines.append(f"  backbone params    {info['backbone_params']:,}")
    lines.append(f"  total params       {info['total_params']:,}")
    lines.append(f"  trainable params   {info['trainable_params']:,}")
    return "\n".join(lines)
