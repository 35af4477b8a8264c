"""A plain-text account of a built model: its stage shapes and parameter counts."""

import numpy as np

_STAGES = ("preprocess", "llf", "channel_max_pool", "temporal_concat", "hlf", "gap", "fc1", "bdi_ii")


def count(weights):
    return int(sum(np.prod(w.shape) for w in weights))


def describe(model):
    """Stage-by-stage output shapes and parameter counts of a `DepressionRegressor`."""
    names = {layer.name for layer in model.layers}
    lines = [f"{model.name} ({model.arch}): input {tuple(model.input_shape)}"]
    for name in _STAGES:
        if name in names:
            lines.append(f"  {name:<18} {tuple(model.get_layer(name).output.shape)}")
    lines.append(f"  backbone params    {model.backbone.count_params():,}")
    lines.append(f"  total params       {model.count_params():,}")
    lines.append(f"  trainable params   {count(model.trainable_weights):,}")
    return "\n".join(lines)
