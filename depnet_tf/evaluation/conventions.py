"""The evaluation conventions of this field, each computed and labelled (paper, eqs. 6-7).

Peers report AVEC2014 in incompatible ways: one score per recording (100 test
items, Northwind and Freeform separately, as the paper's Figure 8 does: "100 V")
or one per subject-session with the two tasks' predictions averaged (50 items).
A number is comparable only under the same convention, so every result here
names its own.
"""

import numpy as np

PER_VIDEO = "per video: a video's score is the mean of its clip predictions (paper, eqs. 6-7)"
PER_TASK = "per task: the per-video scores of one task's recordings"
PER_SESSION = "per subject-session: the per-video scores of a session's recordings (tasks) averaged"
PER_CLIP = "per clip: every clip prediction scored on its own"


def rmse_mae(labels, predictions):
    """(RMSE, MAE) of predictions against labels (paper, equations 7 and 6)."""
    errors = np.asarray(predictions, np.float64) - np.asarray(labels, np.float64)
    return float(np.sqrt(np.mean(errors**2))), float(np.mean(np.abs(errors)))


def scores(labels, predictions, convention):
    rmse, mae = rmse_mae(labels, predictions)
    return {"n": len(labels), "rmse": rmse, "mae": mae, "convention": convention}


def per_session(videos):
    """One row per session: the label and the mean prediction of its videos (tasks).

    Args:
        videos: the per-video table, with a `session` column (empty = unknown:
            the video stands alone as its own session).
    """
    table = videos.copy()
    table["session"] = [s or v for s, v in zip(table["session"], table["video_id"])]
    return (
        table.groupby("session", sort=True)
        .agg(
            label=("label", "mean"), prediction=("prediction", "mean"), videos=("video_id", "size")
        )
        .reset_index()
    )


def conventions(videos, clips):
    """Scores under every convention the data supports.

    Args:
        videos: per-video table (`video_id`, `label`, `prediction`, and optional
            `session` and `task` columns).
        clips: per-clip table (`label`, `prediction`).

    Returns:
        {"per_video": ..., "per_task": {task: ...}, "per_session": ..., "per_clip": ...},
        each `{n, rmse, mae, convention}`; `per_task` and `per_session` only
        when the manifest names tasks or sessions.
    """
    result = {"per_video": scores(videos["label"], videos["prediction"], PER_VIDEO)}
    if "task" in videos and (videos["task"] != "").any():
        result["per_task"] = {
            task: scores(rows["label"], rows["prediction"], PER_TASK)
            for task, rows in videos[videos["task"] != ""].groupby("task", sort=True)
        }
    if "session" in videos and (videos["session"] != "").any():
        sessions = per_session(videos)
        result["per_session"] = scores(sessions["label"], sessions["prediction"], PER_SESSION)
    result["per_clip"] = scores(clips["label"], clips["prediction"], PER_CLIP)
    return result


_LABELS = {
    "per_video": "per video (paper, eqs. 6-7)",
    "per_session": "per subject-session (tasks averaged)",
    "per_clip": "per clip",
}


def format_conventions(result):
    """The conventions as text lines, each naming its convention and its item count."""
    lines = []
    for key, label in _LABELS.items():
        if key in result:
            entry = result[key]
            lines.append(
                f"{label}: RMSE {entry['rmse']:.2f}  MAE {entry['mae']:.2f}  (n={entry['n']})"
            )
        if key == "per_video":
            for task, entry in result.get("per_task", {}).items():
                lines.append(
                    f"per task {task}: RMSE {entry['rmse']:.2f}  "
                    f"MAE {entry['mae']:.2f}  (n={entry['n']})"
                )
    return lines
