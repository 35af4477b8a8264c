"""Reading YAML from other people's files: bounded in size and depth, aliases refused.

PyYAML's `safe_load` builds nested values recursively (a list nested 3,000
levels deep ends in a `RecursionError`) and expands aliases (a "billion
laughs" file of a few hundred bytes becomes millions of values, and every
message that quotes it becomes as large). A config needs neither: ours are
three levels deep and never repeat a value by reference. So the text is first
walked as a flat stream of parser events, which costs no recursion, and
refused with one line when it is too large, too deep, or uses an alias.
"""

import yaml

from depnet_tf.errors import ConfigError

MAX_BYTES = 1_000_000  # a config is a few hundred bytes; a grid a few kilobytes
MAX_DEPTH = 16  # sections, keys, lists of lists: our deepest config needs 3


def _check_events(text, source):
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise ConfigError(
                f"{source}: line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) "
                "are not accepted in configs; write the value out"
            )
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(
                    f"{source}: line {event.start_mark.line + 1}: values nested more than "
                    f"{MAX_DEPTH} levels deep; a config needs 3"
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def load_text(text, source):
    """The value of a YAML document `text`, checked first (see the module notes).

    Args:
        text: the YAML text.
        source: what messages call it (a file name, or `--set KEY`).

    Raises:
        ConfigError: one line naming `source`, for text that is too long, too
            deep, uses an alias, or is not valid YAML.
    """
    if len(text) > MAX_BYTES:
        raise ConfigError(
            f"{source}: {len(text):,} characters of YAML; at most {MAX_BYTES:,} are accepted"
        )
    try:
        _check_events(text, source)
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"{source}: not valid YAML ({first})") from None
    except RecursionError:  # not expected after the depth check; never a traceback
        raise ConfigError(f"{source}: values nested too deeply") from None


def load_file(path):
    """The value of the YAML file at `path` (see `load_text`); one-line errors name it."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES:,} bytes; not a config")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text (YAML) file") from None
    return load_text(text, path)
