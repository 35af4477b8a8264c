"""Evaluation: per-video scores and their conventions (paper, equations 6-7)."""

from depnet_tf.evaluation.per_video import (
    clip_predictions,
    evaluate_clips,
    evaluate_model,
    format_summary,
    per_video,
    rmse_mae,
)

__all__ = [
    "clip_predictions",
    "evaluate_clips",
    "evaluate_model",
    "format_summary",
    "per_video",
    "rmse_mae",
]
