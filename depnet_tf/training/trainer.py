"""`train`: the paper's recipe (section 5.2.1) through plain `model.fit`.

By default the FAM and head train on the feature cache (the backbone is frozen,
so its features never change); `train.end_to_end` trains on frames instead.
A run writes to `train.out_dir`:

- `checkpoints/last.weights.h5`, `checkpoints/best.weights.h5` (lowest per-video
  validation RMSE), of the trained model (the head, or the full model);
- `backup/`, `backup_state/`: a killed run resumes at its last finished epoch, with
  the same weights, optimizer, sampling, dropout and early-stopping state;
- `history.csv` and TensorBoard logs in `logs/`;
- `model.keras`: the full DepNet (frames in, score out) and `config.yaml`;
- `val_predictions.csv`: the final per-video validation predictions.
"""

import os

import keras
import pandas as pd
import tensorflow as tf
import yaml

from depnet_tf.atomic import atomic_path
from depnet_tf.data import Manifest, cache_spec, clip_dataset, feature_dataset
from depnet_tf.data.sampling import EpochClock
from depnet_tf.models import DepNetConfig, build_model
from depnet_tf.training.callbacks import (
    AtomicBackupAndRestore,
    PerVideoValidation,
    ResumableState,
    StopOnNaN,
    SyncEpochClock,
)
from depnet_tf.training.distribute import make_strategy, patch_multiworker_fit, worker_shard
from depnet_tf.training.early_stopping import IterationEarlyStopping
from depnet_tf.training.evaluation import evaluate_clips
from depnet_tf.training.losses import EuclideanLoss
from depnet_tf.training.metrics import IterationLoss, regression_metrics
from depnet_tf.training.optimizer import CaffeSGD
from depnet_tf.training.schedule import CaffeInverseDecay

class TrainingError(ValueError):
    """Training could not finish properly; nothing final was written."""


def paper_optimizer(train):
    """SGD with the inv policy and Caffe's coupled decay, from a config's `train` section."""
    schedule = CaffeInverseDecay(train["base_lr"], train["lr_gamma"], train["lr_power"])
    return CaffeSGD(schedule, momentum=train["momentum"], coupled_weight_decay=train["weight_decay"])


def compile_like_the_paper(model, train, jit_compile="auto"):
    model.compile(
        optimizer=paper_optimizer(train),
        loss=EuclideanLoss(),
        metrics=[IterationLoss(), *regression_metrics()],
        jit_compile=jit_compile,
    )


def unfreeze_last_stage(model):
    """Let SENet50's conv5 stage (or ResNet50's last stage) train; BN stays in inference mode."""
    backbone = model.backbone
    backbone.trainable = True
    for layer in backbone.layers:
        last_stage = layer.name.startswith(("conv5_", "conv5_block"))
        layer.trainable = last_stage and not isinstance(layer, keras.layers.BatchNormalization)


def _datasets(config, model, manifest, clock, shard):
    data, train = config["data"], config["train"]
    steps = model.config.num_frames
    common = {"num_frames": steps, "batch_size": data["batch_size"]}
    videos = manifest
    if shard is not None:
        videos = shard_manifest(manifest, data["train_split"], *shard)
    if train["end_to_end"]:
        size = model.config.image_size
        training = clip_dataset(videos, data["train_split"], clips_per_video=data["clips_per_video"],
                                training=True, seed=data["seed"], image_size=size,
                                epoch_clock=clock, **common)
        validation = data["val_split"] and clip_dataset(
            manifest, data["val_split"], clips_per_video=data["eval_clips_per_video"],
            image_size=size, with_ids=True, **common)
        return training, validation
    if not data["cache"]:
        raise TrainingError("data.cache is not set: build a cache with `depnet cache`, "
                            "or train on frames with --end-to-end")
    if model.config.backbone_weights is None:
        raise TrainingError("training on the cache needs fixed backbone weights: set "
                            "model.backbone_weights ('vggface2' or a file); a random backbone "
                            "differs at every build, so no cache can match it")
    spec = cache_spec(model)
    training = feature_dataset(data["cache"], videos, data["train_split"],
                               clips_per_video=data["clips_per_video"], training=True,
                               seed=data["seed"], spec=spec, epoch_clock=clock, **common)
    validation = data["val_split"] and feature_dataset(
        data["cache"], manifest, data["val_split"], clips_per_video=data["eval_clips_per_video"],
        with_ids=True, spec=spec, **common)
    return training, validation


def shard_manifest(manifest, split, index, count):
    """Worker `index` of `count` keeps every count-th training video.

    Every worker gets the same number of videos (the last ones wrap around to
    the start), so all take the same number of steps, as synchronous training
    requires. The other splits are kept whole.
    """
    rows = manifest.split(split)
    if len(rows) < count:
        raise TrainingError(f"{len(rows)} training videos cannot be sharded over {count} workers")
    per_worker = -(-len(rows) // count)
    picks = [(index + count * i) % len(rows) for i in range(per_worker)]
    others = manifest.table[manifest.table["split"] != split]
    table = pd.concat([rows.iloc[picks], others], ignore_index=True)
    return Manifest(table, source=f"{manifest.source} (worker {index} of {count})", check_frames=False)


def train(config, strategy="default", progress=True):
    """Train a model as `config` (see `depnet_tf.training.config`) says; returns a summary dict."""
    data, settings = config["data"], config["train"]
    if not data["manifest"]:
        raise TrainingError("data.manifest is not set in the config")
    out_dir = settings["out_dir"]
    keras.utils.set_random_seed(data["seed"])  # same initial head weights in every run
    if settings["deterministic"]:
        tf.config.experimental.enable_op_determinism()
    manifest = Manifest.read(data["manifest"])
    manifest.split(data["train_split"])  # an empty split is an error that names the splits
    if data["val_split"]:
        manifest.split(data["val_split"])
    distribution = make_strategy(strategy)
    shard = worker_shard(distribution)
    with distribution.scope():
        model = build_model(config["arch"], DepNetConfig.from_dict(config["model"]))
        if settings["end_to_end"] and settings["unfreeze_last_stage"]:
            unfreeze_last_stage(model)
        trainee = model if settings["end_to_end"] else model.head_model()
        # XLA is off for deterministic runs (not all XLA ops are) and under
        # tf.distribute, where Keras' compiled train step fails on TF 2.21.
        xla = "auto" if strategy == "default" and not settings["deterministic"] else False
        compile_like_the_paper(trainee, settings, jit_compile=xla)
        if shard is not None:
            patch_multiworker_fit(trainee)
    clock = EpochClock()
    training, validation = _datasets(config, model, manifest, clock, shard)
    if shard is not None:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        training = training.with_options(options)

    checkpoints = os.path.join(out_dir, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    nan_stop = StopOnNaN()
    early_stop = IterationEarlyStopping(settings["early_stop_iterations"])
    callbacks = [
        SyncEpochClock(clock),
        AtomicBackupAndRestore(os.path.join(out_dir, "backup")),
        nan_stop,
        early_stop,
        ResumableState(os.path.join(out_dir, "backup_state"), early_stop),
    ]
    if validation:
        callbacks.append(PerVideoValidation(validation, settings["validate_every"]))
        callbacks.append(keras.callbacks.ModelCheckpoint(
            os.path.join(checkpoints, "best.weights.h5"), monitor="val_rmse", mode="min",
            save_best_only=True, save_weights_only=True, verbose=0))
    callbacks += [
        keras.callbacks.ModelCheckpoint(os.path.join(checkpoints, "last.weights.h5"),
                                        save_weights_only=True),
        keras.callbacks.CSVLogger(os.path.join(out_dir, "history.csv"), append=True),
        keras.callbacks.TensorBoard(os.path.join(out_dir, "logs"), write_graph=False),
    ]
    # The datasets shuffle themselves (seeded, resumable); Keras cannot shuffle a tf.data.Dataset.
    history = trainee.fit(training, epochs=settings["max_epochs"], callbacks=callbacks,
                          shuffle=False, verbose=1 if progress else 0)
    if nan_stop.nan_iteration is not None:
        raise TrainingError(
            f"the loss became NaN at iteration {nan_stop.nan_iteration}; training stopped and no "
            "model was written. Lower train.base_lr or check the labels and features.")

    summary = {"epochs": len(history.epoch), "iterations": early_stop.iteration,
               "early_stopped_at_iteration": early_stop.stopped_iteration,
               "best_train_iteration_loss": early_stop.best}
    if validation:
        table, scores = evaluate_clips(trainee, validation)
        summary.update({f"val_{k}": v for k, v in scores.items()})
        with atomic_path(os.path.join(out_dir, "val_predictions.csv")) as temporary:
            table.to_csv(temporary, index=False)
    model_path = os.path.join(out_dir, "model.keras")
    with atomic_path(model_path) as temporary:
        model.save(temporary)
    with atomic_path(os.path.join(out_dir, "config.yaml")) as temporary:
        with open(temporary, "w") as file:
            yaml.safe_dump(config, file, sort_keys=False)
    summary["model"] = model_path
    return summary
