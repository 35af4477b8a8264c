"""`run_demo`: the whole pipeline, end to end, on generated face videos.

Videos (real files) -> `extract_faces` -> `Manifest` -> `build_cache` ->
`train` (the paper's optimiser, shortened) -> per-video evaluation ->
`export_savedmodel` -> `predict_path` on a held-out video through the export.
Everything runs through the same functions as the `depnet` commands.

The labels are a made-up visual signal (see `depnet_tf.demo.videos`): the
numbers show that the system learns, and say nothing about depression.
"""

import json
import os
import shutil
import time

import pandas as pd

from depnet_tf.demo import steps
from depnet_tf.demo.settings import DemoSettings
from depnet_tf.demo.videos import make_demo_videos
from depnet_tf.files import atomic_path

STAGE_FOLDERS = ("videos", "faces", "cache", "run", "export")


def run_demo(out_dir, settings=None, progress=True, log=print):
    """Run the demo into `out_dir`; returns the report (also written to `out_dir/report.json`).

    The demo's own sub-folders of `out_dir` (videos, faces, cache, run, export)
    are replaced; nothing else there is touched.
    """
    from depnet_tf.export import export_savedmodel, load_predictor, predict_path
    from depnet_tf.faces.detector import FaceDetector
    from depnet_tf.models import DepNetConfig
    from depnet_tf.models.loading import load_regressor
    from depnet_tf.models.regressor import weights_hash
    from depnet_tf.training.trainer import train

    settings = settings or DemoSettings()
    start = time.perf_counter()
    stage = steps.Stages(log)
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
            settings.dev_fraction,
        )
    with stage("faces"):
        steps.extract(rows, folders["faces"], settings, progress)
    with stage("cache"):
        manifest_path = os.path.join(out_dir, "manifest.csv")
        manifest = steps.write_manifest(rows, folders["faces"], manifest_path)
        weights, backbone = steps.choose_backbone(settings, out_dir, log)
        model_config = DepNetConfig(
            num_frames=settings.num_frames,
            image_size=settings.image_size,
            fc_units=settings.fc_units,
            backbone_weights=weights,
            precision=settings.precision,
        )
        steps.cache(manifest, folders["cache"], model_config, progress)
    with stage("train"):
        config = steps.training_config(
            settings, model_config, manifest_path, folders["cache"], folders["run"]
        )
        summary = train(config, progress=progress)
    with stage("evaluate"):
        trained = load_regressor(summary["model"])
        table, scores, train_mean, baseline, predictions_path = steps.evaluate(
            trained, manifest, settings, folders["cache"], out_dir
        )
        dev = dev_path = None
        if "dev" in manifest.splits:
            dev_run = steps.evaluate(trained, manifest, settings, folders["cache"], out_dir, "dev")
            dev, dev_path = dev_run[0], dev_run[-1]
        calibration = steps.calibrate(
            summary["model"], weights_hash(trained), dev, dev_path, settings
        )
        pictures = steps.explanations(trained, manifest, table, out_dir)
        statistics, report_page = steps.statistics_report(
            table,
            dev,
            train_mean,
            pd.read_csv(os.path.join(folders["run"], "history.csv")),
            out_dir,
            pictures,
        )
    with stage("export"):
        exported = export_savedmodel(
            trained, folders["export"], "depnet", 1, force=True, calibration=calibration
        )
    with stage("predict"):
        held_out = next(r for r in rows if r["split"] == "test")
        # The video file again, through face extraction with the faces step's settings.
        detector = FaceDetector(detect_size=settings.detect_size)
        served, direct = (
            predict_path(
                held_out["path"],
                load_predictor(model),
                clips=settings.eval_clips_per_video,
                detector=detector,
            )
            for model in (exported, summary["model"])
        )
        evaluated = table.set_index("video_id").loc[held_out["video_id"], "prediction"]

    plot_path = os.path.join(out_dir, "predictions.png")
    steps.plot_predictions(
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
        "precision": settings.precision,
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
            "evaluate_bdi_ii": float(evaluated),
            "severity": served["severity_name"],
            "clips": served["clips"],
            "interval": served["interval"],
            "interval_note": served["interval_note"],
        },
        "n_dev_videos": 0 if dev is None else int(len(dev)),
        "statistics": {
            "metrics": statistics["metrics"],
            "ci95": statistics["ci95"],
            "conformal": statistics.get("conformal"),
            "report": os.path.abspath(report_page),
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
        f"{prediction['keras_bdi_ii']:.1f} through the .keras model "
        f"({prediction['evaluate_bdi_ii']:.1f} in the evaluation); "
        + (
            f"{100 * (1 - prediction['interval']['alpha']):.0f}% prediction interval "
            f"{prediction['interval']['lower']:.1f}-{prediction['interval']['upper']:.1f}"
            if prediction["interval"]
            else prediction["interval_note"]
        ),
        _statistics_line(report["statistics"]),
        f"plot: {report['plot']}   "
        f"report: {os.path.join(os.path.dirname(report['plot']), 'report.json')}",
        f"done in {report['seconds']:.0f} s. These numbers come from a synthetic visual signal "
        "and say nothing about depression.",
    ]
    return "\n".join(lines)


def _statistics_line(statistics):
    ci = statistics["ci95"]
    line = (
        f"statistics: RMSE 95% bootstrap interval [{ci['rmse'][0]:.2f}, {ci['rmse'][1]:.2f}], "
        f"Pearson r {statistics['metrics']['pearson_r']:.2f}"
    )
    record = statistics["conformal"]
    if record is not None:
        q = "unbounded" if record["q"] is None else f"+- {record['q']:.2f}"
        line += (
            f"; conformal interval {q} (alpha {record['alpha']}, {record['n']} dev videos), "
            f"test coverage {record['coverage']:.2f}"
        )
    return line + f"; report: {statistics['report']}"
