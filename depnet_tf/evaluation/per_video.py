"""Per-video evaluation: a video's score is the mean of its clip predictions (paper, eqs. 6-7)."""

import numpy as np
import pandas as pd

from depnet_tf.constants import EVAL_CLIPS, SEVERITY_NAMES
from depnet_tf.severity import severity_band


def rmse_mae(labels, predictions):
    errors = np.asarray(predictions, np.float64) - np.asarray(labels, np.float64)
    return float(np.sqrt(np.mean(errors**2))), float(np.mean(np.abs(errors)))


def clip_predictions(model, dataset, progress=False):
    """(video ids, labels, predictions) of every clip of a `with_ids=True` dataset."""
    from tqdm.auto import tqdm

    ids, labels, predictions = [], [], []
    batches = tqdm(
        dataset, desc="evaluate", unit="batch", disable=None if progress else True, leave=False
    )
    for inputs, label, video_id in batches:
        predictions.append(np.asarray(model(inputs, training=False)).reshape(-1))
        labels.append(np.asarray(label).reshape(-1))
        ids += [v.decode() for v in np.asarray(video_id)]
    return ids, np.concatenate(labels), np.concatenate(predictions)


def per_video(ids, labels, predictions):
    """One row per video: video_id, label, prediction (mean of clips), n_clips, bands."""
    frame = pd.DataFrame({"video_id": ids, "label": labels, "prediction": predictions})
    table = (
        frame.groupby("video_id", sort=False)
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


def evaluate_clips(model, dataset, progress=False):
    """Per-video table and summary scores (over videos, the paper's metric, and over clips)."""
    ids, labels, predictions = clip_predictions(model, dataset, progress)
    table = per_video(ids, labels, predictions)
    video_rmse, video_mae = rmse_mae(table["label"], table["prediction"])
    clip_rmse, clip_mae = rmse_mae(labels, predictions)
    summary = {
        "videos": len(table),
        "clips": len(ids),
        "rmse": video_rmse,
        "mae": video_mae,
        "clip_rmse": clip_rmse,
        "clip_mae": clip_mae,
        "band_accuracy": float(np.mean(table["severity_true"] == table["severity_pred"])),
    }
    return table, summary


def evaluate_model(
    model, manifest, split, clips=EVAL_CLIPS, batch_size=8, cache=None, progress=False
):
    """Per-video evaluation of a full `DepressionRegressor` on one manifest split.

    With `cache`, the model's head runs on the cached features (checked against
    the model's backbone); otherwise the whole model runs on the face frames.

    Returns:
        (per-video DataFrame, summary dict), as `evaluate_clips`.
    """
    from depnet_tf.data import cache_spec, clip_dataset, feature_dataset

    steps = model.config.num_frames
    if cache:
        dataset = feature_dataset(
            cache,
            manifest,
            split,
            steps,
            clips_per_video=clips,
            batch_size=batch_size,
            with_ids=True,
            spec=cache_spec(model),
        )
        return evaluate_clips(model.head_model(), dataset, progress)
    dataset = clip_dataset(
        manifest,
        split,
        steps,
        clips_per_video=clips,
        image_size=model.config.image_size,
        batch_size=batch_size,
        with_ids=True,
    )
    return evaluate_clips(model, dataset, progress)


def format_summary(summary, table):
    lines = [
        f"videos: {summary['videos']}, clips: {summary['clips']}",
        f"per video (paper, eqs. 6-7): RMSE {summary['rmse']:.2f}  MAE {summary['mae']:.2f}",
        f"per clip:                    "
        f"RMSE {summary['clip_rmse']:.2f}  MAE {summary['clip_mae']:.2f}",
        f"severity band (Table 1) accuracy: {summary['band_accuracy']:.2%}",
    ]
    counts = pd.crosstab(table["severity_true"], table["severity_pred"]).reindex(
        index=SEVERITY_NAMES, columns=SEVERITY_NAMES, fill_value=0
    )
    lines.append("bands (rows: true, columns: predicted):")
    lines += ["  " + line for line in counts.to_string().splitlines()]
    return "\n".join(lines)
