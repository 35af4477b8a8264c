"""`export_version`: one exported version, the SavedModel plus its TFLite and ONNX files.

The same command run again completes a version that a killed run left without
a requested TFLite or ONNX file, its `models.config`, request example or model
card, instead of refusing it; a version exported from another model is
replaced only with `force`. One export at a time writes into a folder: a
second one, started while the first runs, is refused with one line naming the
folder and the other process (`files.folder_lock`), rather than overwriting
the version the first is converting to TFLite.
"""

import logging
import os

from depnet_tf.errors import VersionExistsError
from depnet_tf.export.model_card import build_card, card_paths, write_model_card
from depnet_tf.export.onnx import export_onnx
from depnet_tf.export.savedmodel import (
    check_version,
    export_fingerprint,
    export_savedmodel,
    is_complete,
    read_fingerprint,
    signature_metadata,
    write_models_config,
    write_request_example,
)
from depnet_tf.export.tflite import QUANTIZATIONS, export_tflite
from depnet_tf.files import exists, folder_lock, isfile, remove_stale_temporaries

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
        name: the TF-Serving model name.
        version: the version number.
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
    with folder_lock(out_dir, "an export"):
        return _export_locked(
            model,
            out_dir,
            name,
            version,
            tflite,
            onnx,
            force,
            calibration,
            warmup,
            model_path,
            report,
        )


def companion_paths(out_dir, name, version):
    """{kind: path} of the files every version has beside it: the TF-Serving config, the
    REST request example and the model card (JSON and Markdown)."""
    card_json, card_md = card_paths(out_dir, name, version)
    return {
        "models.config": os.path.join(out_dir, "models.config"),
        "request example": os.path.join(out_dir, name, "request.example.json"),
        "model card": card_json,
        "model card (Markdown)": card_md,
    }


def _export_locked(
    model, out_dir, name, version, tflite, onnx, force, calibration, warmup, model_path, report
):
    target = os.path.join(out_dir, name, str(version))
    extras = artifact_paths(out_dir, name, version, tflite, onnx)
    remove_stale_temporaries(out_dir)
    reused = False
    card = build_card(model, model_path, calibration, report, name, version)
    if exists(target) and not force and not is_complete(target):
        # Versions appear by a rename when whole, so this is a damaged copy
        # (a kill mid-upload to an object store, say): nothing to keep.
        log.warning("%s: an incomplete SavedModel; writing it again", target)
        force = True
    if exists(target) and not force:
        if read_fingerprint(target) != export_fingerprint(model, calibration):
            raise VersionExistsError(target, "exists and was exported from another model")
        companions = companion_paths(out_dir, name, version)
        missing = [k for k, p in {**extras, **companions}.items() if not isfile(p)]
        if not missing:
            raise VersionExistsError(target, "exists with every requested file")
        # A killed run: the same model's version is whole, some files beside it are not.
        log.info("%s exists for this model; writing its missing files: %s", target, missing)
        extras = {k: extras[k] for k in missing if k in extras}
        write_models_config(out_dir, name)
        write_request_example(model, companions["request example"])
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
    # TFLite and ONNX runtimes compute in float32: a mixed-precision model goes
    # there through its float32 twin (same weights); the SavedModel keeps its policy.
    portable = model.with_precision("float32") if extras else model
    for kind, path in extras.items():
        if kind == "onnx":
            export_onnx(portable, path, metadata, calibration=calibration)
        else:
            source = target if portable is model else None
            quantization = kind.split("-", 1)[1]
            export_tflite(portable, source, path, quantization, metadata, calibration)
        written[kind] = path
    written["model_card"] = write_model_card(card, out_dir, name, version)[1]
    return written
