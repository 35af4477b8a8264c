"""`--set key=value` parsing shared by the CLI commands."""

from depnet_tf.errors import ConfigError, excerpt
from depnet_tf.yamlfile import load_text


def parse_overrides(items):
    """Turn ["fc_units=64", "temporal_kernels=[3, 5]"] into a dict of typed values.

    Values are parsed as YAML scalars or lists, so numbers, booleans, `null` and
    `[a, b]` lists work as they would in a config file; they are read as
    config files are (`depnet_tf.yamlfile`: bounded, no aliases).
    """
    values = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value. Received: {excerpt(item)}")
        values[key.strip()] = load_text(raw, f"--set {excerpt(key.strip(), 40)}")
    return values
