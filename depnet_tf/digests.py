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
