"""SHA-256 digests that tie every artifact to what made it (see "Provenance" in the README).

Files are hashed by content; settings (a config, a feature spec) by their
canonical JSON (keys sorted, no spaces), so the same values always give the same
digest, whatever the order they were written in.
"""

import hashlib
import json

from depnet_tf import files

CHUNK = 1 << 20


def file_sha256(path):
    """Hex SHA-256 of the bytes of the file at `path` (local or a `tf.io.gfile` URL)."""
    digest = hashlib.sha256()
    with files.open_file(path) as file:
        for block in iter(lambda: file.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def json_sha256(value):
    """Hex SHA-256 of `value`'s canonical JSON: equal settings give equal digests."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def config_sha256(config):
    """SHA-256 of a training run's config, where it ran (`train.out_dir`) left out.

    The same settings give the same digest wherever the run was written; the
    model records it, and a resumed run must have the same.
    """
    values = {k: dict(v) if isinstance(v, dict) else v for k, v in config.items()}
    values["train"] = {k: v for k, v in dict(values.get("train") or {}).items() if k != "out_dir"}
    return json_sha256(values)
