"""Evaluation: per-clip and per-video scores under every convention (paper, equations 6-7)."""

from depnet_tf.evaluation.conventions import conventions, per_session, rmse_mae
from depnet_tf.evaluation.per_video import (
    Evaluation,
    clip_predictions,
    evaluate_clips,
    evaluate_model,
    evaluate_split,
    format_summary,
    per_video,
)

__all__ = [
    "Evaluation",
    "clip_predictions",
    "conventions",
    "evaluate_clips",
    "evaluate_model",
    "evaluate_split",
    "format_summary",
    "per_session",
    "per_video",
    "rmse_mae",
]
