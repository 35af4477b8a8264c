"""`run_demo`: the whole pipeline, end to end, on generated face videos.

Videos (real files) -> `extract_faces` -> `Manifest` -> `build_cache` ->
`train` (the paper's optimiser, shortened) -> per-video evaluation ->
`export_savedmodel` -> `predict_path` on a held-out video through the export.
Everything runs through the same functions as the `depnet` commands.

The labels are a made-up visual signal (see `depnet_tf.demo.videos`): the
numbers show that the system learns, and say nothing about depression.
"""

import contextlib
import json
import os
import shutil
import time

import numpy as np
import pandas as pd

from depnet_tf.demo.settings import DemoSettings
from depnet_tf.demo.videos import make_demo_videos
from depnet_tf.errors import DataError
from depnet_tf.files import atomic_path

STAGE_FOLDERS = ("videos", "faces", "cache", "run", "export")


def _say(log, message):
    if log:
        log(message)


def choose_backbone(settings, folder, log=print):
    """The backbone weight file of the demo, and a description of it.

    "auto" takes keras-vggface's cached VGGFace2 file when there is one (it never
    downloads); otherwise a randomly initialised SENet50 (seeded) is saved to
    `folder/backbone.weights.h5`, so that the cache and training agree on it.
    """
    from depnet_tf.weights import cached_vggface2

    choice = settings.backbone_weights
    if choice == "auto":
        choice = cached_vggface2(include_top=False)
    if choice:
        _say(log, f"backbone: VGGFace2 SENet50 weights from {choice}")
        return choice, f"vggface2 ({choice})"
    from depnet_tf.models import DepNetConfig
    from depnet_tf.models.random_backbone import save_random_backbone

    path = os.path.join(folder, "backbone.weights.h5")
    save_random_backbone(
        "depnet", DepNetConfig(image_size=settings.image_size), path, seed=settings.seed
    )
    _say(
        log,
        "backbone: no VGGFace2 weights found in keras-vggface's cache "
        "(~/.keras/models/vggface/), so the demo uses a RANDOMLY INITIALISED SENet50. "
        "Learning still works on the demo's signal; real data needs the VGGFace2 weights.",
    )
    return path, "random (no VGGFace2 weights found)"


def _manifest(rows, faces_dir, path):
    from depnet_tf.data import Manifest
    from depnet_tf.faces.openface import aligned_dir

    table = pd.DataFrame(
        {
            "video_id": [r["video_id"] for r in rows],
            "frames": [aligned_dir(faces_dir, r["video_id"]) for r in rows],
            "label": [r["label"] for r in rows],
            "split": [r["split"] for r in rows],
            "subject": [r["subject"] for r in rows],
        }
    )
    manifest = Manifest(table, source=path)
    manifest.write(path)
    return manifest


def training_config(settings, model_config, manifest_path, cache_dir, run_dir):
    """The demo's `depnet train` config: the paper's recipe, shortened."""
    from depnet_tf.training.config import merge_config

    return merge_config(
        {
            "arch": "depnet",
            "model": model_config.to_dict(),
            "data": {
                "manifest": manifest_path,
                "cache": cache_dir,
                "train_split": "train",
                "val_split": None,
                "clips_per_video": settings.clips_per_video,
                "eval_clips_per_video": settings.eval_clips_per_video,
                "batch_size": settings.batch_size,
                "seed": settings.seed,
            },
            "train": {
                "base_lr": settings.base_lr,
                "max_epochs": settings.max_epochs,
                "out_dir": run_dir,
            },
        }
    )


def plot_predictions(table, baseline, path, title):
    """Scatter of predicted against true BDI-II of the held-out videos, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(4.5, 4.5), dpi=100)
    axes.plot([0, 63], [0, 63], color="0.6", linewidth=1, label="perfect")
    axes.axhline(
        baseline, color="tab:orange", linestyle="--", linewidth=1, label="baseline (train mean)"
    )
    axes.scatter(table["label"], table["prediction"], color="tab:blue", label="held-out videos")
    axes.set(
        xlim=(-2, 65), ylim=(-2, 65), xlabel="true score", ylabel="predicted score", title=title
    )
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)


class _Stages:
    """Times the demo's stages and logs each as it ends."""

    COUNT = 7

    def __init__(self, log):
        self.log = log
        self.seconds = {}

    @contextlib.contextmanager
    def __call__(self, name):
        began = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - began, 2)
        _say(self.log, f"[{len(self.seconds)}/{self.COUNT}] {name}: {self.seconds[name]:.1f} s")


def _extract(rows, folder, settings, progress):
    from depnet_tf.faces.detector import FaceDetector
    from depnet_tf.faces.extract import extract_all

    # The demo's faces fill a third of a 320x240 frame: detecting at 192 px
    # finds every one of them, 1.7x faster than at the default 320.
    _, failures = extract_all(
        [r["path"] for r in rows],
        folder,
        FaceDetector(detect_size=192),
        progress=progress,
        image_size=settings.image_size,
    )
    if failures:
        raise DataError(
            "face extraction failed on demo videos: "
            + "; ".join(message for _, message in failures)
        )


def _cache(manifest, folder, model_config, progress):
    from depnet_tf.data import build_cache
    from depnet_tf.models import build_model

    model = build_model("depnet", model_config)
    _, failed = build_cache(model, manifest, folder, progress=progress)
    if failed:
        raise DataError("feature cache failed: " + "; ".join(message for _, message in failed))


def _evaluate(model, manifest, settings, cache_dir, out_dir):
    """Held-out scores, the training-mean baseline, and the per-video CSV."""
    from depnet_tf.evaluation.per_video import evaluate_model, rmse_mae

    table, scores = evaluate_model(
        model, manifest, "test", clips=settings.eval_clips_per_video, cache=cache_dir
    )
    train_mean = float(manifest.split("train")["label"].mean())
    baseline = rmse_mae(table["label"], np.full(len(table), train_mean))
    path = os.path.join(out_dir, "test_predictions.csv")
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
    return table, scores, train_mean, baseline, path


def run_demo(out_dir, settings=None, progress=True, log=print):
    """Run the demo into `out_dir`; returns the report (also written to `out_dir/report.json`).

    The demo's own sub-folders of `out_dir` (videos, faces, cache, run, export)
    are replaced; nothing else there is touched.
    """
    from depnet_tf.export import export_savedmodel, load_predictor, predict_path
    from depnet_tf.models import DepNetConfig
    from depnet_tf.models.loading import load_regressor
    from depnet_tf.training.trainer import train

    settings = settings or DemoSettings()
    start = time.perf_counter()
    stage = _Stages(log)
    os.makedirs(out_dir, exist_ok=True)
    for name in STAGE_FOLDERS:
        shutil.rmtree(os.path.join(out_dir, name), ignore_errors=True)
    folders = {name: os.path.join(out_dir, name) for name in STAGE_FOLDERS}

    with stage("videos"):
        rows = make_demo_videos(
            folders["videos"],
            settings.num_videos,
            settings.frames_per_video,
            settings.test_fraction,
            settings.seed,
        )
    with stage("faces"):
        _extract(rows, folders["faces"], settings, progress)
    with stage("cache"):
        manifest_path = os.path.join(out_dir, "manifest.csv")
        manifest = _manifest(rows, folders["faces"], manifest_path)
        weights, backbone = choose_backbone(settings, out_dir, log)
        model_config = DepNetConfig(
            num_frames=settings.num_frames,
            image_size=settings.image_size,
            fc_units=settings.fc_units,
            backbone_weights=weights,
        )
        _cache(manifest, folders["cache"], model_config, progress)
    with stage("train"):
        config = training_config(
            settings, model_config, manifest_path, folders["cache"], folders["run"]
        )
        summary = train(config, progress=progress)
    with stage("evaluate"):
        trained = load_regressor(summary["model"])
        table, scores, train_mean, baseline, predictions_path = _evaluate(
            trained, manifest, settings, folders["cache"], out_dir
        )
    with stage("export"):
        exported = export_savedmodel(trained, folders["export"], "depnet", 1, force=True)
    with stage("predict"):
        held_out = next(r for r in rows if r["split"] == "test")
        served = predict_path(held_out["path"], load_predictor(exported))
        direct = predict_path(held_out["path"], load_predictor(summary["model"]))

    plot_path = os.path.join(out_dir, "predictions.png")
    plot_predictions(
        table, train_mean, plot_path, f"demo, held-out videos (RMSE {scores['rmse']:.1f})"
    )
    baseline_rmse, baseline_mae = baseline
    report = {
        "rmse": scores["rmse"],
        "mae": scores["mae"],
        "baseline_rmse": baseline_rmse,
        "baseline_mae": baseline_mae,
        "rmse_reduction": 1 - scores["rmse"] / baseline_rmse if baseline_rmse else None,
        "n_train_videos": int(len(manifest.split("train"))),
        "n_test_videos": int(len(table)),
        "seconds": round(time.perf_counter() - start, 1),
        "stage_seconds": stage.seconds,
        "exported_model": os.path.abspath(exported),
        "keras_model": os.path.abspath(summary["model"]),
        "backbone": backbone,
        "seed": settings.seed,
        "training": {
            "epochs": summary["epochs"],
            "iterations": summary["iterations"],
            "base_lr": settings.base_lr,
            "image_size": settings.image_size,
        },
        "prediction": {
            "video": os.path.abspath(held_out["path"]),
            "label": held_out["label"],
            "savedmodel_bdi_ii": served["bdi_ii"],
            "keras_bdi_ii": direct["bdi_ii"],
            "severity": served["severity_name"],
            "clips": served["clips"],
        },
        "predictions_csv": os.path.abspath(predictions_path),
        "plot": os.path.abspath(plot_path),
    }
    with atomic_path(os.path.join(out_dir, "report.json")) as temporary:
        with open(temporary, "w") as file:
            json.dump(report, file, indent=2)
    return report


def format_report(report):
    """The short human summary printed at the end of `depnet demo`."""
    prediction = report["prediction"]
    lines = [
        f"held-out videos: RMSE {report['rmse']:.2f}, MAE {report['mae']:.2f}   "
        f"(baseline, predicting the training mean: RMSE {report['baseline_rmse']:.2f}, "
        f"MAE {report['baseline_mae']:.2f})",
        f"RMSE {100 * report['rmse_reduction']:.0f}% below the baseline; "
        f"{report['n_train_videos']} training and {report['n_test_videos']} held-out videos; "
        f"backbone: {report['backbone']}",
        f"SavedModel: {report['exported_model']}",
        f"predict {os.path.basename(prediction['video'])} (true {prediction['label']}): "
        f"{prediction['savedmodel_bdi_ii']:.1f} through the SavedModel, "
        f"{prediction['keras_bdi_ii']:.1f} through the .keras model",
        f"plot: {report['plot']}   "
        f"report: {os.path.join(os.path.dirname(report['plot']), 'report.json')}",
        f"done in {report['seconds']:.0f} s. These numbers come from a synthetic visual signal "
        "and say nothing about depression.",
    ]
    return "\n".join(lines)
