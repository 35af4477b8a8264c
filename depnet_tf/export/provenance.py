"""Which model made an artifact: the weights digest of a model file, a SavedModel or a sidecar.

Every artifact we write records the weights digest (`models.weights_hash`) of
the model behind it: predictions CSVs (`model_sha256`), calibration records
(`model_weights_sha256`), SavedModels (`assets.extra/depnet_export.json`) and
TFLite/ONNX sidecars (`weights_sha256`). This module reads it back from any
model path, so two artifacts can be checked to belong together.
"""

import os

from depnet_tf import files
from depnet_tf.errors import ModelFileError


def model_weights_sha256(path):
    """The weights digest of the model at `path` (`.keras`, SavedModel folder, `.tflite`, `.onnx`).

    A `.keras` file is loaded and hashed; the exported formats carry the digest
    of the model they were exported from.
    """
    from depnet_tf.export.runner import sidecar_record
    from depnet_tf.export.savedmodel import read_fingerprint

    path = os.fspath(path)
    if files.isdir(path):
        digest = (read_fingerprint(path) or {}).get("weights_sha256")
        where = f"{path}/assets.extra/depnet_export.json"
    elif path.endswith((".tflite", ".onnx")):
        digest = sidecar_record(path)[1]
        where = f"{path}.json"
    else:
        from depnet_tf.models.loading import load_regressor
        from depnet_tf.models.regressor import weights_hash

        return weights_hash(load_regressor(path))
    if not digest:
        raise ModelFileError(f"{where}: does not record the weights digest of its model")
    return digest


def trace(path):
    """The chain behind an artifact, as a JSON-ready dict (`depnet provenance PATH`).

    Takes a `.keras` model (or its run folder), an exported version (or the
    serving folder holding it), a `.tflite`/`.onnx` file, a predictions CSV, a
    calibration record, a feature cache folder or a `depnet faces` record.
    Each answer names what made the artifact, from what, with which digests,
    and checks the links it can: a calibration beside a model is for its
    weights, a run's `config.yaml` is the one the model recorded.
    """
    from depnet_tf.digests import file_sha256

    path = os.fspath(path).rstrip("/") or "/"
    if files.isdir(path):
        if files.isfile(os.path.join(path, "model.keras")):
            return trace(os.path.join(path, "model.keras"))
        if files.isfile(os.path.join(path, "saved_model.pb")):
            return _trace_export(path)
        if files.isfile(os.path.join(path, "meta.json")):
            return _trace_cache(path)
        versions = _export_versions(path)
        if versions:
            return _trace_export(versions[-1])
        raise ModelFileError(f"{path}: no model, export, cache or run folder here")
    if not files.isfile(path):
        raise ModelFileError(f"{path}: no such file or folder")
    if path.endswith((".tflite", ".onnx")):
        from depnet_tf.export.runner import read_record

        record = read_record(f"{path}.json", "sidecar file") or {}
        return {
            "artifact": path,
            "kind": path.rsplit(".", 1)[1],
            "sha256": file_sha256(path),
            "model_weights_sha256": record.get("weights_sha256"),
            "calibration": record.get("calibration"),
            "trained": record.get("provenance") or "not recorded",
        }
    if path.endswith(".calibration.json"):
        return _trace_calibration(path[: -len(".calibration.json")])
    if path.endswith(".faces.json"):
        from depnet_tf.faces.extract import read_record as read_faces

        folder, name = os.path.split(path)
        return {"artifact": path, "kind": "faces", **(read_faces(folder, name[:-11]) or {})}
    if path.endswith(".csv"):
        return _trace_predictions(path)
    return _trace_model(path)


def _trace_model(path):
    from depnet_tf.digests import config_sha256, file_sha256
    from depnet_tf.export.model_card import run_config
    from depnet_tf.models.loading import load_regressor
    from depnet_tf.models.regressor import weights_hash

    model = load_regressor(path)
    digest = weights_hash(model)
    record = dict(model.provenance or {})
    chain = {
        "artifact": path,
        "kind": "model",
        "sha256": file_sha256(path),
        "arch": model.arch,
        "weights_sha256": digest,
        "trained": record or "not recorded (built by hand, or by an earlier version)",
    }
    config = run_config(path) if record else None
    if config is not None:
        same = config_sha256(config) == record.get("config_sha256")
        config_path = os.path.join(os.path.dirname(path), "config.yaml")
        chain["run_config"] = {"path": config_path, "matches_the_record": same}
    calibration = _trace_calibration(path, digest)
    if calibration:
        chain["calibration"] = calibration
    return chain


def _trace_calibration(model_path, weights_sha256=None):
    from depnet_tf.evaluation.conformal import calibration_path, check_calibration
    from depnet_tf.export.runner import read_record

    path = calibration_path(model_path)
    record = read_record(path, "calibration record")
    if record is None:
        return None
    check_calibration(record, path)
    made_for = record.get("model_weights_sha256")
    return {
        "artifact": path,
        "kind": "calibration",
        "alpha": record["alpha"],
        "q": record["q"],
        "n": record["n"],
        "made_for_weights": made_for or "not recorded",
        "from_predictions": record.get("calibration_file"),
        "predictions_sha256": record.get("predictions_sha256"),
        **({} if weights_sha256 is None else {"matches_the_model": made_for == weights_sha256}),
    }


def _trace_predictions(path):
    import pandas as pd

    from depnet_tf.digests import file_sha256
    from depnet_tf.evaluation.per_video import model_of

    with files.open_file(path) as file:
        table = pd.read_csv(file, dtype={"video_id": str})
    return {
        "artifact": path,
        "kind": "predictions",
        "sha256": file_sha256(path),
        "rows": len(table),
        "videos": int(table["video_id"].nunique()) if "video_id" in table else None,
        "made_by_weights": model_of(table, path) or "not recorded",
    }


def _trace_export(version):
    from depnet_tf.export.savedmodel import read_fingerprint

    record = read_fingerprint(version) or {}
    return {
        "artifact": version,
        "kind": "export (SavedModel)",
        "arch": record.get("arch"),
        "model_weights_sha256": record.get("weights_sha256") or "not recorded",
        "calibration": record.get("calibration"),
        "trained": record.get("provenance") or "not recorded",
    }


def _trace_cache(folder):
    from depnet_tf.data.cache_entries import read_meta
    from depnet_tf.digests import json_sha256

    meta = read_meta(folder)
    entries = [n for n in files.listdir(folder) if n.endswith(".npz") and not n.startswith(".")]
    return {
        "artifact": folder,
        "kind": "feature cache",
        "feature_spec": meta,
        "feature_spec_sha256": json_sha256(meta),
        "entries": len(entries),
    }


def _export_versions(folder):
    """The numbered version folders under `folder/<name>/`, oldest first."""
    found = []
    for name in sorted(files.listdir(folder)):
        model_dir = os.path.join(folder, name)
        if not files.isdir(model_dir):
            continue
        for version in files.listdir(model_dir):
            target = os.path.join(model_dir, version)
            if version.isdigit() and files.isfile(os.path.join(target, "saved_model.pb")):
                found.append((int(version), target))
    return [target for _, target in sorted(found)]
