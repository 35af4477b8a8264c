"""`export_version`: one exported version, the SavedModel plus its TFLite and ONNX files.

The same command run again completes a version that a killed run left without
a requested TFLite or ONNX file, instead of refusing it; a version exported
from another model is replaced only with `force`.
"""

import logging
import os

from depnet_tf.errors import VersionExistsError
from depnet_tf.export.model_card import build_card, write_model_card
from depnet_tf.export.onnx import export_onnx
from depnet_tf.export.savedmodel import (
    check_version,
    export_fingerprint,
    export_savedmodel,
    is_complete,
    read_fingerprint,
    signature_metadata,
)
from depnet_tf.export.tflite import QUANTIZATIONS, export_tflite
from depnet_tf.files import exists, isfile, remove_stale_temporaries

log = logging.getLogger(__name__)


def artifact_paths(out_dir, name, version, tflite=(), onnx=False):
    """{kind: path} of the files beside a version: `tflite-<quantization>` and `onnx`."""
    paths = {f"tflite-{q}": os.path.join(out_dir, f"{name}-v{version}-{q}.tflite") for q in tflite}
    if onnx:
        paths["onnx"] = os.path.join(out_dir, f"{name}-v{version}.onnx")
    return paths


def export_version(
    model,
    out_dir,
    name="depnet",
    version=1,
    tflite=(),
    onnx=False,
    force=False,
    calibration=None,
    warmup=True,
    model_path=None,
    report=None,
):
    """Export `model` as version `version` of `out_dir/name/`, with TFLite and ONNX files.

    Every version gets a model card (`export.model_card`):
    `out_dir/<name>-v<version>.model_card.{json,md}`, and the JSON inside the
    SavedModel's `assets.extra/`.

    Args:
        model: a `DepressionRegressor`.
        out_dir: the serving folder (gets `name/version/` and `models.config`).
        name, version: the TF-Serving model name and version number.
        tflite: quantizations to write, each one of `QUANTIZATIONS`.
        onnx: also write an ONNX file.
        force: replace an existing version and its files.
        calibration: the model's conformal calibration (`depnet calibrate`), or None;
            with it the signature also returns `bdi_ii_lower` and `bdi_ii_upper`.
        warmup: write TF-Serving warm-up requests into the version.
        model_path: the `.keras` file `model` came from; the card then records
            its training run (the `config.yaml` beside it and its manifest).
        report: one model's entry of a `depnet report` (`model_card.report_record`),
            for the card's metrics.

    Returns:
        {"savedmodel": path, "reused": bool, "model_card": path of the Markdown card,
        kind: path for each file written}.
    """
    check_version(version)
    unknown = [q for q in tflite if q not in QUANTIZATIONS]
    if unknown:
        raise ValueError(f"`tflite` must hold values of {QUANTIZATIONS}. Received: {unknown}")
    target = os.path.join(out_dir, name, str(version))
    extras = artifact_paths(out_dir, name, version, tflite, onnx)
    remove_stale_temporaries(out_dir)
    reused = False
    card = build_card(model, model_path, calibration, report, name, version)
    if exists(target) and not force:
        missing = [k for k, p in extras.items() if not isfile(p)]
        same = is_complete(target) and read_fingerprint(target) == export_fingerprint(
            model, calibration
        )
        if not same:
            raise VersionExistsError(
                target, "exists and was exported from another model (or is incomplete)"
            )
        if not missing:
            raise VersionExistsError(target, "exists with every requested file")
        log.info("%s exists for this model; writing its missing files: %s", target, missing)
        extras = {k: extras[k] for k in missing}
        reused = True
    else:
        export_savedmodel(
            model,
            out_dir,
            name,
            version,
            force=force,
            calibration=calibration,
            warmup=warmup,
            card=card,
        )
    written = {"savedmodel": target, "reused": reused}
    metadata = signature_metadata(model, calibration)
    for kind, path in extras.items():
        if kind == "onnx":
            export_onnx(model, path, metadata, calibration=calibration)
        else:
            export_tflite(model, target, path, kind.split("-", 1)[1], metadata)
        written[kind] = path
    written["model_card"] = write_model_card(card, out_dir, name, version)[1]
    return written
