"""Downloading keras-vggface's SENet50 weights: never trusting a partial file, checking a digest.

The file is streamed into a temporary name beside its final one
(`files.atomic_path`) while its SHA-256 is computed, and renamed only when the
whole file has arrived and its digest is the expected one. A killed download
leaves only a `.tmp-` file, which the next call removes and never mistakes for
the weights (keras' `get_file` would take a leftover `NAME.part` as done).

keras-vggface's release publishes no checksum, so the expected digest is the
one you give (`DEPNET_VGGFACE2_SHA256`, or `sha256=`), for example your lab's
copy's. Every download records the digest it received in `NAME.sha256` beside
the file and logs it, so it can be compared with another machine's; a cached
file is checked against `DEPNET_VGGFACE2_SHA256` whenever that is set.
`DEPNET_VGGFACE2_URL` replaces the release folder (a mirror; `file://` works).
"""

import hashlib
import logging
import os
import urllib.error
import urllib.request

from depnet_tf import files
from depnet_tf.digests import file_sha256
from depnet_tf.errors import WeightsError

log = logging.getLogger(__name__)
RELEASE_URL = "https://github.com/rcmalli/keras-vggface/releases/download/v2.0/"
CHUNK = 1 << 20


def release_url():
    """The folder URL the files are downloaded from (`DEPNET_VGGFACE2_URL` overrides)."""
    base = os.environ.get("DEPNET_VGGFACE2_URL") or RELEASE_URL
    return base if base.endswith("/") else f"{base}/"


def expected_sha256(sha256=None):
    """The digest a download (or a cached file) must have, lower-case hex, or None."""
    value = sha256 or os.environ.get("DEPNET_VGGFACE2_SHA256") or None
    return value.strip().lower() if value else None


def check_sha256(path, sha256=None):
    """Refuse a weight file whose SHA-256 is not the expected one (when one is given)."""
    expected = expected_sha256(sha256)
    if expected is None:
        return path
    found = file_sha256(path)
    if found != expected:
        raise WeightsError(
            f"{path}: SHA-256 {found} is not the expected {expected} (DEPNET_VGGFACE2_SHA256); "
            "the file is damaged or another file; delete it to download it again"
        )
    return path


def download_weights(name, folder, sha256=None):
    """Download release file `name` into `folder`, verified; returns its path.

    Raises:
        WeightsError: the download failed, or the file's digest is not the
            expected one; nothing is left under the final name.
    """
    origin = release_url() + name
    final = os.path.join(folder, name)
    expected = expected_sha256(sha256)
    files.remove_stale_temporaries(folder)
    log.info("downloading %s", origin)
    try:
        with files.atomic_path(final) as temporary:
            digest = hashlib.sha256()
            with urllib.request.urlopen(origin, timeout=60) as response:
                with open(temporary, "wb") as out:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        digest.update(block)
                        out.write(block)
            found = digest.hexdigest()
            if expected is not None and found != expected:
                raise WeightsError(
                    f"{origin}: the download's SHA-256 {found} is not the expected {expected}; "
                    "nothing was kept"
                )
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise WeightsError(
            f"Could not download the VGGFace2 SENet50 weights from {origin} ({reason}). "
            f"Put keras-vggface's {name} in {folder}/, or pass weights=PATH "
            "(a .h5, .pkl or .weights.h5 file)."
        ) from None
    with files.atomic_path(f"{final}.sha256") as temporary:
        with open(temporary, "w") as file:
            file.write(f"{found}  {name}\n")
    log.info("downloaded %s: SHA-256 %s", final, found)
    return final
