"""`--set key=value` parsing shared by the CLI commands."""

import yaml


def parse_overrides(items):
    """Turn ["fc_units=64", "temporal_kernels=[3, 5]"] into a dict of typed values.

    Values are parsed as YAML scalars or lists, so numbers, booleans, `null` and
    `[a, b]` lists work as they would in a config file.
    """
    values = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value. Received: {item!r}")
        try:
            values[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise ValueError(f"--set {key}: cannot parse value {raw!r} ({error})") from None
    return values
