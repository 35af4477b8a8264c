"""The steps of `run_demo`: backbone, faces, manifest, cache, training config, evaluation,
calibration, the statistical report and the plot."""

import contextlib
import os
import time

import numpy as np
import pandas as pd

from depnet_tf.errors import DataError
from depnet_tf.files import atomic_path


def say(log, message):
    if log:
        log(message)


def choose_backbone(settings, folder, log=print):
    """The backbone weight file of the demo, and a description of it.

    "auto" takes keras-vggface's cached VGGFace2 file when there is one and it
    fits SENet50 (it never downloads); otherwise a randomly initialised SENet50 (seeded) is saved to
    `folder/backbone.weights.h5`, so that the cache and training agree on it.
    """
    from depnet_tf.weights import WeightsError, cached_vggface2, inspect_weights

    choice = settings.backbone_weights
    if choice == "auto":
        choice = cached_vggface2(include_top=False)
        if choice:
            # A cached file is used only if it is whole and fits SENet50 (a killed
            # copy or an empty placeholder must not pass for VGGFace2 weights).
            try:
                found = inspect_weights(choice)
                problem = None if found["fits"] else found["problems"]
            except WeightsError as error:
                problem = str(error)
            if problem:
                say(log, f"backbone: ignoring the cached {choice}: {problem}")
                choice = None
    if choice:
        say(log, f"backbone: VGGFace2 SENet50 weights from {choice}")
        return choice, f"vggface2 ({choice})"
    from depnet_tf.models import DepNetConfig
    from depnet_tf.models.random_backbone import save_random_backbone

    path = os.path.join(folder, "backbone.weights.h5")
    save_random_backbone(
        "depnet", DepNetConfig(image_size=settings.image_size), path, seed=settings.seed
    )
    say(
        log,
        "backbone: no VGGFace2 weights found in keras-vggface's cache "
        "(~/.keras/models/vggface/), so the demo uses a RANDOMLY INITIALISED SENet50. "
        "Learning still works on the demo's signal; real data needs the VGGFace2 weights.",
    )
    return path, "random (no VGGFace2 weights found)"


def write_manifest(rows, faces_dir, path):
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


class Stages:
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
        say(self.log, f"[{len(self.seconds)}/{self.COUNT}] {name}: {self.seconds[name]:.1f} s")


def extract(rows, folder, settings, progress):
    from depnet_tf.faces.detector import FaceDetector
    from depnet_tf.faces.extract import extract_all

    _, failures = extract_all(
        [r["path"] for r in rows],
        folder,
        FaceDetector(detect_size=settings.detect_size),
        progress=progress,
        image_size=settings.image_size,
    )
    if failures:
        raise DataError(
            "face extraction failed on demo videos: "
            + "; ".join(message for _, message in failures)
        )


def cache(manifest, folder, model_config, progress):
    from depnet_tf.data import build_cache
    from depnet_tf.models import build_model

    model = build_model("depnet", model_config)
    _, failed = build_cache(model, manifest, folder, progress=progress)
    if failed:
        raise DataError("feature cache failed: " + "; ".join(message for _, message in failed))


def evaluate(model, manifest, settings, cache_dir, out_dir, split="test"):
    """A split's scores, the training-mean baseline, and its per-video CSV."""
    from depnet_tf.evaluation.per_video import evaluate_model, rmse_mae

    table, scores = evaluate_model(
        model, manifest, split, clips=settings.eval_clips_per_video, cache=cache_dir
    )
    train_mean = float(manifest.split("train")["label"].mean())
    baseline = rmse_mae(table["label"], np.full(len(table), train_mean))
    path = os.path.join(out_dir, f"{split}_predictions.csv")
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
    return table, scores, train_mean, baseline, path


def calibrate(model_path, weights_sha256, dev, dev_path, settings):
    """Split conformal calibration on the dev videos, stored beside the model (or None)."""
    from depnet_tf.evaluation import conformal

    if dev is None:
        return None
    return conformal.calibrate_model(model_path, weights_sha256, dev, dev_path, settings.alpha)[1]


def explanations(model, manifest, test, out_dir):
    """Grad-CAM grids of the best- and worst-predicted held-out videos: {title: PNG}."""
    from depnet_tf.explain import explain_extremes

    found = explain_extremes(model, manifest, test, os.path.join(out_dir, "explain"))
    return {
        f"Explanation, {kind}-predicted held-out video {r['video_id']} (error "
        f"{r['error']:.1f}): clip 0": r["clips"][0]["grid"]
        for kind, r in found.items()
    }


def statistics_report(test, dev, train_mean, history, out_dir, pictures=None):
    """`depnet report` of the held-out videos into `out_dir/report/`; returns its summary."""
    from depnet_tf.evaluation.report import build_report, write_report

    models = {"depnet": test.sort_values("video_id").reset_index(drop=True)}
    calibrations = None if dev is None else {"depnet": dev}
    report = build_report(models, calibrations)
    written = write_report(
        report,
        models,
        os.path.join(out_dir, "report"),
        {"depnet": history},
        baseline=train_mean,
        pictures=pictures,
    )
    return report["models"]["depnet"], written["index.html"]
