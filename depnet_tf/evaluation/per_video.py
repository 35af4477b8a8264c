"""Per-video evaluation: a video's score is the mean of its clip predictions (paper, eqs. 6-7).

Sequence models score K T-frame clips per video; single-image models score K
single frames spread evenly over it. Every clip's prediction is kept (video id,
clip index, frame numbers), so later analyses never need to run the model again.
"""

import dataclasses

import numpy as np
import pandas as pd
import tensorflow as tf

from depnet_tf.constants import EVAL_CLIPS, SEVERITY_NAMES
from depnet_tf.errors import DataError
from depnet_tf.evaluation.conventions import conventions, format_conventions, rmse_mae
from depnet_tf.severity import severity_band


@dataclasses.dataclass
class Evaluation:
    """What `evaluate_split` found.

    Attributes:
        videos: one row per video: video_id, label, prediction, n_clips, bands,
            and the manifest's subject, session and task where it has them.
        clips: one row per clip: video_id, clip, frames, label, prediction.
        summary: the scores: `videos`, `clips`, `rmse`, `mae` (per video),
            `clip_rmse`, `clip_mae`, `band_accuracy` and `conventions`.
    """

    videos: pd.DataFrame
    clips: pd.DataFrame
    summary: dict


def compiled(model):
    """The model's inference pass as one compiled graph, as `model.predict` runs it.

    A model compiled with `jit_compile=True` (`depnet train` with `train.xla`) is
    evaluated through XLA too, so its per-video validation is its own evaluation step.
    """
    return tf.function(
        lambda inputs: model(inputs, training=False),
        reduce_retracing=True,
        jit_compile=bool(getattr(model, "jit_compile", False)),
    )


def clip_predictions(model, dataset, progress=False):
    """One row per clip of a `with_ids=True` dataset (frame numbers with `with_frames`)."""
    from tqdm.auto import tqdm

    predict = compiled(model)
    ids, labels, predictions, frames = [], [], [], []
    batches = tqdm(
        dataset, desc="evaluate", unit="batch", disable=None if progress else True, leave=False
    )
    for inputs, label, video_id, *numbers in batches:
        predictions.append(predict(inputs).numpy().reshape(-1))
        labels.append(np.asarray(label).reshape(-1))
        ids += [v.decode() for v in np.asarray(video_id)]
        if numbers:
            frames += [" ".join(map(str, row)) for row in np.asarray(numbers[0])]
    table = pd.DataFrame(
        {
            "video_id": ids,
            "label": np.concatenate(labels),
            "prediction": np.concatenate(predictions),
        }
    )
    table.insert(1, "clip", table.groupby("video_id", sort=False).cumcount())
    if frames:
        table.insert(2, "frames", frames)
    return table


def per_video(clips):
    """One row per video: video_id, label, prediction (mean of clips), n_clips, bands."""
    table = (
        clips.groupby("video_id", sort=False)
        .agg(
            label=("label", "first"),
            prediction=("prediction", "mean"),
            n_clips=("prediction", "size"),
        )
        .reset_index()
    )
    table["severity_true"] = [SEVERITY_NAMES[b] for b in severity_band(table["label"])]
    table["severity_pred"] = [SEVERITY_NAMES[b] for b in severity_band(table["prediction"])]
    return table


def summarize(videos, clips):
    """The summary scores of per-video and per-clip tables."""
    video_rmse, video_mae = rmse_mae(videos["label"], videos["prediction"])
    clip_rmse, clip_mae = rmse_mae(clips["label"], clips["prediction"])
    return {
        "videos": len(videos),
        "clips": len(clips),
        "rmse": video_rmse,
        "mae": video_mae,
        "clip_rmse": clip_rmse,
        "clip_mae": clip_mae,
        "band_accuracy": float(np.mean(videos["severity_true"] == videos["severity_pred"])),
        "conventions": conventions(videos, clips),
    }


def evaluate_clips(model, dataset, progress=False):
    """Per-video table and summary scores of a `with_ids=True` dataset."""
    clips = clip_predictions(model, dataset, progress)
    videos = per_video(clips)
    return videos, summarize(videos, clips)


def evaluate_split(
    model, manifest, split, clips=EVAL_CLIPS, batch_size=8, cache=None, progress=False
):
    """Every clip, video and convention score of a `DepressionRegressor` on one split.

    With `cache`, the model's head runs on the cached features (checked against
    the model's backbone); otherwise the whole model runs on the face frames.
    Sequence models score `clips` T-frame clips per video, single-image models
    `clips` frames.

    Returns:
        An `Evaluation`.
    """
    from depnet_tf.data import cache_spec, clip_dataset, feature_dataset

    options = {
        "clips_per_video": clips,
        "batch_size": batch_size,
        "with_ids": True,
        "with_frames": True,
        "single_frame": not model.architecture.is_sequence,
    }
    if cache:
        dataset = feature_dataset(
            cache, manifest, split, model.config.num_frames, spec=cache_spec(model), **options
        )
        runner = model.head_model()
    else:
        dataset = clip_dataset(
            manifest, split, model.config.num_frames, image_size=model.config.image_size, **options
        )
        runner = model
    clip_table = clip_predictions(runner, dataset, progress)
    videos = per_video(clip_table)
    rows = manifest.split(split).set_index("video_id")
    for column in ("subject", "session", "task"):
        if column in rows:
            videos[column] = rows.loc[videos["video_id"], column].to_numpy()
    stamp_model((videos, clip_table), model)
    return Evaluation(videos, clip_table, summarize(videos, clip_table))


MODEL_COLUMN = "model_sha256"  # which model made a predictions CSV (`models.weights_hash`)


def stamp_model(tables, model):
    """Add the `model_sha256` column, the weights digest of the model that made them, to
    each of `tables` (the digest is computed once: it reads every weight)."""
    from depnet_tf.models.regressor import weights_hash

    digest = weights_hash(model)
    for table in tables:
        table[MODEL_COLUMN] = digest
    return tables


def model_of(table, path):
    """The `model_sha256` a predictions table records, or None for a table that has none.

    Raises:
        DataError: the file mixes the predictions of several models.
    """
    if MODEL_COLUMN not in table.columns:
        return None
    digests = sorted({str(d) for d in table[MODEL_COLUMN].dropna()})
    if len(digests) > 1:
        raise DataError(f"{path}: predictions of {len(digests)} models ({digests}) in one file")
    return digests[0] if digests else None


def evaluate_model(
    model, manifest, split, clips=EVAL_CLIPS, batch_size=8, cache=None, progress=False
):
    """`evaluate_split` as (per-video DataFrame, summary dict)."""
    result = evaluate_split(model, manifest, split, clips, batch_size, cache, progress)
    return result.videos, result.summary


def format_summary(summary, table):
    lines = [
        f"videos: {summary['videos']}, clips: {summary['clips']}",
        *format_conventions(summary["conventions"]),
        f"severity band (Table 1) accuracy: {summary['band_accuracy']:.2%}",
    ]
    counts = pd.crosstab(table["severity_true"], table["severity_pred"]).reindex(
        index=SEVERITY_NAMES, columns=SEVERITY_NAMES, fill_value=0
    )
    lines.append("bands (rows: true, columns: predicted):")
    lines += ["  " + line for line in counts.to_string().splitlines()]
    return "\n".join(lines)
