"""The package's error types. Each message is one line and names the file, row or argument.

All derive from `DepNetError` (a `ValueError`), so callers can catch the
package's own failures in one clause; the `depnet` command turns each into one
`depnet CMD: error: ...` line.
"""


def excerpt(value, limit=60):
    """`repr(value)` cut to about `limit` characters, so a message stays one short line."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, (str, list, tuple, dict)) else len(text)
    unit = "characters" if isinstance(value, str) else "items"
    if not isinstance(value, (str, list, tuple, dict)):
        unit = "characters"
    return f"{text[: limit - 20]}...{text[-12:]} ({size} {unit})"


class DepNetError(ValueError):
    """A failure the user can fix from the message alone."""


class DataError(DepNetError):
    """Bad input data: a manifest, a frame folder, an image, a cache entry."""


class WeightsError(DepNetError):
    """A weight file that cannot be read or does not fit; the message names the file."""


class ModelFileError(DepNetError):
    """A model file (`.keras`, SavedModel, `.tflite`, `.onnx`) that cannot be used."""


class ConfigError(DepNetError):
    """A training or experiment setting with the wrong type or range; names the key."""


class TrainingError(DepNetError):
    """Training could not finish properly; nothing final was written."""


class ExportError(DepNetError):
    """An export that cannot be written as asked (an existing version, a size limit)."""


class VersionExistsError(ExportError):
    """An export version that exists already; `target` is its folder, `reason` why it stays."""

    def __init__(self, target, reason):
        super().__init__(
            f"{target} {reason}; pick another `version` or pass force=True to replace it"
        )
        self.target = target
        self.reason = reason


class StorageError(DepNetError):
    """A file could not be written: the disk is full, read-only, or the path is blocked.

    `errno` holds the operating system's error number where there is one.
    """

    def __init__(self, message, errno=None):
        super().__init__(message)
        self.errno = errno
