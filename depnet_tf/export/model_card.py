"""The model card of an exported version: `model_card.json` and `model_card.md`.

The sections follow "Model Cards for Model Reporting" (Mitchell et al., FAT*
2019): model details, intended use, factors, metrics, evaluation data, training
data, quantitative analyses, ethical considerations, caveats and
recommendations. The card is filled from what travels with the model:

- the model itself (architecture, configuration, weights digest);
- the training run's `config.yaml` beside the `.keras` file, and the manifest it
  names (its SHA-256, splits, video and subject counts), when they are there;
- `depnet calibrate`'s record beside the model (the prediction interval);
- a `depnet report` `report.json`, when given (test metrics with bootstrap CIs).

Anything missing is stated as not recorded, never guessed.
"""

import json
import os
import platform

from depnet_tf.errors import ConfigError, DataError
from depnet_tf.files import atomic_path, isfile, open_file
from depnet_tf.yamlfile import load_text

PAPER = (
    'He et al., "DepNet: An automated industrial intelligent system using deep learning '
    'for video-based depression analysis", Int J Intell Syst 2022'
)
SECTIONS = (
    "Model details",
    "Intended use",
    "Factors",
    "Metrics",
    "Evaluation data",
    "Training data",
    "Quantitative analyses",
    "Ethical considerations",
    "Caveats and recommendations",
)
NOT_RECORDED = "not recorded"
LICENCES = {
    "vggface2": (
        "The SENet50 backbone weights derive from the VGGFace2 data set; one of its authors "
        "has said the models carry the data set's licence (CC BY-SA 4.0). They are not part "
        "of depnet_tf. Check the terms before you use or redistribute this model."
    ),
    "imagenet": (
        "The ResNet-50 backbone weights are keras.applications' ImageNet weights; check "
        "ImageNet's terms of access before you use or redistribute this model."
    ),
    "random": "The backbone is randomly initialised (no pretrained weights, no data licence).",
    "unknown": "The backbone's weights came from a file we cannot name the source of; its "
    "licence is the file's.",
}
INTENDED_USE = {
    "primary_uses": "research on estimating self-reported depression severity (BDI-II, "
    "0-63) from face video; reproducing and extending the paper's results",
    "primary_users": "researchers and engineering teams evaluating the method",
    "out_of_scope": "diagnosis, screening or any clinical decision about a person; use on "
    "people who have not consented; populations, languages and recording set-ups unlike "
    "the training data without a fresh evaluation",
    "statement": "Not a medical device. The output is not a diagnosis.",
}
FACTORS = (
    "Age, sex, skin tone, camera, lighting, head pose, culture and language may all change "
    "the error; no per-group evaluation was run unless the quantitative analyses show one. "
    "The paper's data, AVEC2013/2014, record German speakers in a lab with one webcam and "
    "fixed tasks; a model trained on other data inherits that data's make-up (see the "
    "training data)."
)
ETHICS = (
    "Depression scores are sensitive health data, and so are face videos. Store both "
    "under the rules that apply to health data, obtain consent, and never use a score "
    "to decide about a person without a clinician."
)
CAVEATS = (
    "Scores are trained on self-reported BDI-II labels of few subjects (AVEC2014: 150 "
    "clips of 84 subjects, paper section 5.1); expect wide error bars. Check the "
    "prediction interval's coverage on your own data (`depnet calibrate`), and "
    "re-evaluate before trusting the model elsewhere."
)


def training_record(model, model_path=None):
    """What made the model's weights, from the record it carries (`depnet train` wrote it).

    The manifest's digest and split counts are those recorded when the model
    was trained, not recomputed now from whatever file sits at that path. The
    training settings come from the run's `config.yaml` beside the `.keras`
    file, when it is there and its digest is the recorded one. A model without
    a record (built by hand, or trained by an earlier version) says so.
    """
    record = dict(getattr(model, "provenance", None) or {})
    if not record:
        return None
    out = {
        "made_by": record.get("made_by"),
        "config_sha256": record.get("config_sha256"),
        "seed": record.get("seed"),
        "deterministic": record.get("deterministic"),
        "data": record.get("data") or NOT_RECORDED,
        "cache": record.get("cache") or "none (trained on frames)",
        "faces": record.get("faces") or NOT_RECORDED,
        "versions": record.get("versions") or NOT_RECORDED,
    }
    config = run_config(model_path)
    if config is not None:
        from depnet_tf.digests import config_sha256

        if config_sha256(config) == record.get("config_sha256"):
            out["train"] = config.get("train", {})
            out["config_file"] = os.path.join(os.path.dirname(os.fspath(model_path)), "config.yaml")
    return out


def backbone_details(model):
    """The backbone's network and where its weights came from, as the model recorded it.

    A model trained by `depnet train` says (RANDOM for a random backbone, even
    one saved to a file); otherwise the configuration's `backbone_weights` is all
    there is, and the card says the source was not recorded by a training run.
    """
    recorded = (getattr(model, "provenance", None) or {}).get("backbone")
    if recorded:
        return dict(recorded)
    weights = model.config.backbone_weights
    return {
        "network": model.architecture.backbone.name,
        "source": "RANDOM" if weights is None else str(weights),
        "random": weights is None,
        "description": "from the configuration (no training record)",
    }


def _licence_kind(backbone):
    source = str(backbone.get("source", "")).lower()
    if backbone.get("random"):
        return "random"
    if source == "imagenet":
        return "imagenet"
    if "vggface" in source or "senet50" in source and source.endswith((".h5", ".pkl")):
        return "vggface2"
    return "unknown"


def run_config(model_path):
    """The run's `config.yaml` beside the model file, or None."""
    if model_path is None:
        return None
    config_path = os.path.join(os.path.dirname(os.fspath(model_path)), "config.yaml")
    if not isfile(config_path):
        return None
    with open_file(config_path, "r") as file:
        config = load_text(file.read(), config_path)
    if not isinstance(config, dict):
        raise ConfigError(f"{config_path}: a run's config must be a mapping of sections")
    return config


def report_record(report_path, model_name=None):
    """One model's entry of a `depnet report` report.json (named, or the only one)."""
    if not isfile(report_path):
        raise DataError(f"{report_path}: no such report file")
    try:
        with open_file(report_path, "r") as file:
            models = json.loads(file.read())["models"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(f"{report_path}: not a `depnet report` report.json ({error})") from None
    if model_name is None:
        if len(models) != 1:
            raise DataError(
                f"{report_path}: holds {len(models)} models {sorted(models)}; "
                "name the exported one (--report-model)"
            )
        model_name = next(iter(models))
    if model_name not in models:
        raise DataError(f"{report_path}: no model {model_name!r} (it has {sorted(models)})")
    entry = models[model_name]
    return {
        "report": os.fspath(report_path),
        "model": model_name,
        "n": entry.get("n"),
        "metrics": entry.get("metrics"),
        "ci95": entry.get("ci95"),
        "conformal": entry.get("conformal"),
    }


def build_card(model, model_path=None, calibration=None, report=None, name="depnet", version=1):
    """The card as a JSON-ready dict (see the module docstring)."""
    import keras
    import tensorflow as tf

    import depnet_tf
    from depnet_tf.models.regressor import weights_hash

    training = training_record(model, model_path)
    backbone = backbone_details(model)
    return {
        "schema": "depnet_tf model card 1 (sections of Mitchell et al., 2019)",
        "model_details": {
            "name": name,
            "version": version,
            "architecture": model.arch,
            "paper_row": model.architecture.paper,
            "paper": PAPER,
            "configuration": model.config.to_dict(),
            "parameters": int(model.count_params()),
            "weights_sha256": weights_hash(model),
            "backbone": backbone,
            "source_model": os.fspath(model_path) if model_path else NOT_RECORDED,
            "licence": LICENCES[_licence_kind(backbone)],
            "versions": {
                "depnet_tf": depnet_tf.__version__,
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
                "python": platform.python_version(),
            },
        },
        "intended_use": INTENDED_USE,
        "factors": FACTORS,
        "metrics": {
            "reported": "RMSE and MAE of the BDI-II score per video (paper, section 5.2.2), "
            "with 95% bootstrap intervals over subjects; a split-conformal prediction "
            "interval when calibrated",
            "prediction_interval": calibration or NOT_RECORDED,
        },
        "evaluation_data": report or NOT_RECORDED,
        "training_data": training or NOT_RECORDED,
        "quantitative_analyses": (report or {}).get("metrics") or NOT_RECORDED,
        "ethical_considerations": ETHICS,
        "caveats_and_recommendations": CAVEATS,
    }


def _lines(value, indent=0):
    """A nested dict as Markdown bullet lines."""
    pad = "  " * indent
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, list) and not any(isinstance(i, (dict, list)) for i in item):
                out.append(f"{pad}- **{key}**: {', '.join(map(_scalar, item)) or 'none'}")
            elif isinstance(item, (dict, list)) and item:
                out.append(f"{pad}- **{key}**:")
                out += _lines(item, indent + 1)
            else:
                out.append(f"{pad}- **{key}**: {_scalar(item)}")
        return out
    if isinstance(value, list):
        return [f"{pad}- {_scalar(item)}" for item in value]
    return [f"{pad}{_scalar(value)}"]


def _scalar(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "none" if value is None or value == {} or value == [] else str(value)


def render_markdown(card):
    """The card as Markdown, one `##` section per Mitchell et al. section, in their order."""
    details = card["model_details"]
    parts = [
        f"# Model card: {details['name']} version {details['version']} ({details['architecture']})",
        "",
        f"> {card['intended_use']['statement']}",
    ]
    keys = (
        "model_details",
        "intended_use",
        "factors",
        "metrics",
        "evaluation_data",
        "training_data",
        "quantitative_analyses",
        "ethical_considerations",
        "caveats_and_recommendations",
    )
    for title, key in zip(SECTIONS, keys):
        parts += ["", f"## {title}", "", *_lines(card[key])]
    return "\n".join(parts) + "\n"


def card_paths(out_dir, name, version):
    """Where a version's card goes: beside its other files, `<name>-v<version>.model_card.*`."""
    stem = os.path.join(os.fspath(out_dir), f"{name}-v{version}.model_card")
    return f"{stem}.json", f"{stem}.md"


def card_text(card):
    return json.dumps(card, indent=2, default=str)


def write_model_card(card, out_dir, name, version):
    """Write the card's JSON and Markdown beside the version; returns their paths.

    `export_savedmodel` also puts the JSON into the version's
    `assets.extra/model_card.json`, so it travels with the SavedModel folder
    when that is handed on alone (TF-Serving ignores `assets.extra`).
    """
    json_path, md_path = card_paths(out_dir, name, version)
    for path, text in ((json_path, card_text(card)), (md_path, render_markdown(card))):
        with atomic_path(path) as temporary:
            with open(temporary, "w") as file:
                file.write(text)
    return json_path, md_path
