"""`explain_path`: what `depnet explain` writes for one video or frame folder.

It takes the clips `depnet predict` scores (K evenly spread clips, or frames for
the single-image models, read by the one frame reader), prints the same score,
and writes per clip a PNG grid of the frames with their Grad-CAM overlays and
frame importances, an animated GIF of all overlays, and `explain.json` with the
raw maps, importances, frame numbers and scores.
"""

import json
import os

import numpy as np

from depnet_tf.constants import EVAL_CLIPS
from depnet_tf.data.inputs import clip_frames, source_frames
from depnet_tf.errors import DataError
from depnet_tf.explain import overlays
from depnet_tf.explain.attribution import explain_clips
from depnet_tf.files import atomic_path, child_path

DEFINITIONS = {
    "grad_cam": "cam[b,t] = relu(sum_c alpha[b,t,c] A[b,t,:,:,c]), alpha = spatial mean of "
    "d score_b / d A[b,t,h,w,c]; A = the SENet50 (or ResNet-50) LLF of frame t; unnormalised",
    "frame_importance": "share of the FAM's temporal max-pools won by each frame, weighted by "
    "|d score / d pooled value|; sums to 1 per clip",
}


def explain_path(
    path, model, out_dir, clips=EVAL_CLIPS, detector=None, progress=False, **face_options
):
    """Explain a `DepressionRegressor`'s score of a video or frame folder into `out_dir`.

    A video's faces are extracted as `predict_path` extracts them: as the
    model's training faces were (`detector`, and `face_options` to override).

    Returns:
        The `explain.json` content (a dict).
    """
    if isinstance(clips, bool) or not isinstance(clips, int) or clips < 1:
        raise ValueError(f"`clips` must be a positive integer. Received: clips={clips!r}")
    from depnet_tf.faces.extract import replay_settings

    config, single = model.config, not model.architecture.is_sequence
    recorded = (getattr(model, "provenance", None) or {}).get("faces")
    settings = replay_settings(recorded, config.image_size, **face_options)
    with source_frames(path, settings, detector, progress) as frames:
        batch, numbers = clip_frames(
            frames,
            config.num_frames,
            config.image_size,
            clips,
            single_frame=single,
            with_numbers=True,
        )
    scores, cams, importance = explain_clips(model, batch.astype(np.float32))
    samples = batch[:, None] if single else batch
    os.makedirs(out_dir, exist_ok=True)
    animation, records = [], []
    for index, (sample, cam, weights, frame_numbers, score) in enumerate(
        zip(samples, cams, importance, numbers, scores)
    ):
        figure = overlays.clip_grid(sample, cam, weights, frame_numbers, score)
        grid = os.path.join(out_dir, f"clip_{index:02d}.png")
        with atomic_path(grid) as temporary:
            figure.savefig(temporary, format="png")
        vmax = float(np.max(cam))
        animation += [
            overlays.overlay(frame, frame_cam, vmax) for frame, frame_cam in zip(sample, cam)
        ]
        records.append(
            {
                "clip": index,
                "frames": [int(n) for n in frame_numbers],
                "score": float(score),
                "frame_importance": weights.tolist(),
                "grad_cam": cam.tolist(),
                "grid": grid,
            }
        )
    gif = overlays.write_gif(animation, os.path.join(out_dir, "overlays.gif"))
    result = {
        "input": os.fspath(path),
        "arch": model.arch,
        "bdi_ii": float(scores.mean()),
        "clips": records,
        "gif": gif,
        "grad_cam_shape": list(cams.shape[1:]),
        "definitions": DEFINITIONS,
    }
    with atomic_path(os.path.join(out_dir, "explain.json")) as temporary:
        with open(temporary, "w") as file:
            json.dump(result, file, indent=2)
    return result


def explain_extremes(model, manifest, predictions, out_dir, clips=3):
    """Explain the best- and worst-predicted videos of a per-video predictions table.

    Args:
        model: the `DepressionRegressor` that made `predictions`.
        manifest: the `Manifest` holding the videos' frame folders.
        predictions: a per-video DataFrame (video_id, label, prediction).
        out_dir: gets `best-<video_id>/` and `worst-<video_id>/` (see `explain_path`).

    Returns:
        {"best": explain.json content, "worst": ...}, each with its `video_id` and `error`.
    """
    errors = (predictions["prediction"] - predictions["label"]).abs().to_numpy()
    picks = {"best": int(np.argmin(errors)), "worst": int(np.argmax(errors))}
    results = {}
    for kind, row in picks.items():
        video = predictions["video_id"].iloc[row]
        folders = manifest.table.loc[manifest.table["video_id"] == video, "frames"]
        if folders.empty:
            raise DataError(f"{manifest.source}: no video_id {video!r} (named by the predictions)")
        target = child_path(out_dir, str(video), prefix=f"{kind}-", what="video_id")
        result = explain_path(folders.iloc[0], model, target, clips)
        results[kind] = {**result, "video_id": video, "error": float(errors[row])}
    return results
