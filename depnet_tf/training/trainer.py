"""`train`: the paper's recipe (section 5.2.1) through plain `model.fit`.

By default the FAM and head train on the feature cache (the backbone is frozen,
so its features never change); `train.end_to_end` trains on frames instead.
A run writes to `train.out_dir`:

- `checkpoints/last.weights.h5`, `checkpoints/best.weights.h5` (lowest per-video
  validation RMSE), of the trained model (the head, or the full model);
- `backup/`, `backup_state/`: a killed run resumes at its last finished epoch, with
  the same weights, optimizer, sampling, dropout and early-stopping state, and a
  history trimmed to that epoch (`resume`);
- `history.csv` and TensorBoard logs in `logs/`;
- `model.keras`: the full DepNet (frames in, score out) and `config.yaml`;
- `val_predictions.csv`: the final per-video validation predictions.

Under `--strategy multiworker` all workers may share one `train.out_dir` (and
one cache): the chief writes the run there, the others into temporaries
(`distribute.worker_out_dir`).

`train.out_dir` may be a `tf.io.gfile` URL (`gs://...`): the run is then
written to a local staging folder (`files.staging_dir`, the same for the same
URL) and uploaded when it finishes, `model.keras` last. After every epoch its
backup, resumable state and history are mirrored to the URL
(`depnet_tf.training.mirror`), so a run killed with its machine resumes on
another one (one process; multi-worker URL runs resume on the same machines).
"""

import contextlib
import logging
import os
import sys

import keras
import tensorflow as tf
import yaml

from depnet_tf.data.sampling import EpochClock
from depnet_tf.digests import config_sha256
from depnet_tf.errors import TrainingError
from depnet_tf.evaluation.conformal import calibration_path
from depnet_tf.evaluation.per_video import evaluate_clips
from depnet_tf.files import (
    atomic_path,
    ensure_free_space,
    is_url,
    isfile,
    remove,
    remove_stale_temporaries,
    staging_dir,
    upload_tree,
    write_large,
)
from depnet_tf.models import DepNetConfig, build_model
from depnet_tf.models.random_backbone import describe_weights
from depnet_tf.models.regressor import weights_hash
from depnet_tf.training.callbacks import (
    AtomicModelCheckpoint,
    PerVideoValidation,
    StopOnNaN,
    SyncEpochClock,
    weight_bytes,
)
from depnet_tf.training.datasets import read_manifest, training_datasets
from depnet_tf.training.distribute import (
    make_strategy,
    patch_multiworker_fit,
    worker_out_dir,
    worker_shard,
)
from depnet_tf.training.early_stopping import IterationEarlyStopping
from depnet_tf.training.losses import EuclideanLoss
from depnet_tf.training.metrics import IterationLoss, regression_metrics
from depnet_tf.training.mirror import RunMirror, fetch_backup, forget_backup
from depnet_tf.training.optimizer import CaffeSGD
from depnet_tf.training.provenance import backbone_record, run_record
from depnet_tf.training.resume import (
    AtomicBackupAndRestore,
    ResumableState,
    backup_config,
    backup_epochs,
    trim_history,
)
from depnet_tf.training.schedule import CaffeInverseDecay

log = logging.getLogger(__name__)
# Folders of a run that hold files written atomically (and so, after a kill, temporaries).
RUN_FOLDERS = ("", "checkpoints", "backup", "backup_state")


def paper_optimizer(train, precision="float32"):
    """SGD with the inv policy and Caffe's coupled decay, from a config's `train` section.

    Under `mixed_float16` it is wrapped in Keras' `LossScaleOptimizer`: the loss is
    scaled up before the float16 backward pass (so small gradients do not flush to
    zero) and the gradients are scaled back down before `CaffeSGD` sees them; a
    step whose gradients overflow is skipped and the scale halved. The schedule,
    the coupled decay and the momentum act on the unscaled gradients, exactly as
    in float32, and count only the steps that were applied.
    """
    schedule = CaffeInverseDecay(train["base_lr"], train["lr_gamma"], train["lr_power"])
    optimizer = CaffeSGD(
        schedule, momentum=train["momentum"], coupled_weight_decay=train["weight_decay"]
    )
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def compile_like_the_paper(model, train, jit_compile="auto", precision="float32"):
    model.compile(
        optimizer=paper_optimizer(train, precision),
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


def use_xla(settings, distributed):
    """Whether the train and evaluation steps are XLA-compiled (`jit_compile=True`).

    `train.xla: true` compiles them, `false` does not, and `"auto"` (the default)
    compiles them where a GPU or TPU is present, as Keras' own "auto" does: on
    the CPU, the paper's head trained 1.6x slower with XLA, because the early
    stop's in-step copy of the best weights makes XLA write every trained
    variable back each step (docs: "Mixed precision and XLA"). It is always off
    for deterministic runs, whose promise is TensorFlow's op determinism, which
    documents TensorFlow's kernels and not XLA's, and under tf.distribute, where
    Keras' compiled train step fails on TF 2.21.
    """
    if not settings["xla"] or settings["deterministic"] or distributed:
        return False
    if settings["xla"] == "auto":
        return bool(tf.config.list_physical_devices("GPU") or tf.config.list_logical_devices("TPU"))
    return True


def build_trainee(config, strategy, shard, distributed=False):
    """(full model, the model that `fit` trains), compiled as the paper trains."""
    settings = config["train"]
    with strategy.scope():
        model = build_model(config["arch"], DepNetConfig.from_dict(config["model"]))
        if settings["end_to_end"] and settings["unfreeze_last_stage"]:
            unfreeze_last_stage(model)
        trainee = model if settings["end_to_end"] else model.head_model()
        compile_like_the_paper(
            trainee,
            settings,
            jit_compile=use_xla(settings, distributed),
            precision=model.config.precision,
        )
        if shard is not None:
            patch_multiworker_fit(trainee)
    return model, trainee


def run_callbacks(settings, clock, validation, mirror_to=None, config_sha256=None):
    """The callbacks of a run, and the two whose state the summary reads.

    With `mirror_to` (a URL), a `RunMirror` copies what a resume needs there
    after every epoch.
    """
    out_dir = settings["out_dir"]
    checkpoints = os.path.join(out_dir, "checkpoints")
    nan_stop = StopOnNaN()
    early_stop = IterationEarlyStopping(settings["early_stop_iterations"])
    backup = AtomicBackupAndRestore(os.path.join(out_dir, "backup"))
    callbacks = [SyncEpochClock(clock), nan_stop, early_stop]
    best = None
    if validation:
        best = AtomicModelCheckpoint(
            os.path.join(checkpoints, "best.weights.h5"),
            monitor="val_rmse",
            mode="min",
            save_best_only=True,
            verbose=0,
        )
        callbacks += [PerVideoValidation(validation, settings["validate_every"]), best]
    # The epoch is logged, then its resumable state and backup are written (see
    # `resume`): a resume trims the history to the backup's epoch.
    callbacks += [
        AtomicModelCheckpoint(os.path.join(checkpoints, "last.weights.h5")),
        keras.callbacks.CSVLogger(os.path.join(out_dir, "history.csv"), append=True),
        keras.callbacks.TensorBoard(os.path.join(out_dir, "logs"), write_graph=False),
        backup,
        ResumableState(
            os.path.join(out_dir, "backup_state"), backup, early_stop, best, config_sha256
        ),
    ]
    if mirror_to is not None:
        callbacks.append(RunMirror(out_dir, mirror_to))
    return callbacks, nan_stop, early_stop


def check_run_space(out_dir, model, trainee):
    """Refuse to start a run whose files cannot fit on the disk (h5py may crash when it fills).

    At once a run holds: the backup (weights and optimizer slots, plus its
    temporary while it is replaced), the last and best checkpoints, and at the
    end the full `model.keras`.
    """
    trained = weight_bytes(trainee.weights)
    needed = 2 * 3 * trained + 2 * trained + 2 * weight_bytes(model.weights)
    ensure_free_space(out_dir, needed, "the run's checkpoints and model")


def write_outputs(config, model, trainee, validation, summary, out_dir):
    """Validation predictions, `model.keras` and `config.yaml` (as given), atomically."""
    if validation:
        table, scores = evaluate_clips(trainee, validation)
        summary.update({f"val_{k}": v for k, v in scores.items()})
        with atomic_path(os.path.join(out_dir, "val_predictions.csv")) as temporary:
            table.to_csv(temporary, index=False)
    model_path = os.path.join(out_dir, "model.keras")
    # An interval calibrated for the model this one replaces would be served with it.
    stale = calibration_path(model_path)
    if isfile(stale):
        log.info("removing %s: it was calibrated for the model this run replaces", stale)
        remove(stale)
    write_large(model_path, model.save, weight_bytes(model.weights), "the model")
    with atomic_path(os.path.join(out_dir, "config.yaml")) as temporary:
        with open(temporary, "w") as file:
            yaml.safe_dump(config, file, sort_keys=False)
    summary["model"] = model_path
    return summary


def check_resume(out_dir, config_sha256, restart, mirror_to=None):
    """Start over, or resume only a backup that this very config made.

    A killed run's backup resumes when the same config runs again. A backup of
    another config (or of a version that did not record its config) is refused
    with one line; `restart` removes it and the run's history and checkpoints
    first, and so starts over.
    """
    backup = os.path.join(out_dir, "backup")
    epochs = backup_epochs(backup)
    if restart:
        for name in ("backup", "backup_state", "checkpoints", "history.csv"):
            remove(os.path.join(out_dir, name))
        if mirror_to is not None:
            forget_backup(mirror_to)
        return
    if not epochs:
        return
    recorded = backup_config(os.path.join(out_dir, "backup_state"), epochs)
    if recorded != config_sha256:
        made_by = (
            f"another config ({recorded[:12]}, this one is {config_sha256[:12]})"
            if recorded
            else "a config it did not record (an earlier version)"
        )
        raise TrainingError(
            f"{out_dir}: holds a killed run of {made_by}, backed up after {epochs} epochs; "
            "it would be resumed with this config's name on it. Pass --restart (train(..., "
            "restart=True)) to start over there, or set another train.out_dir"
        )


def train(config, strategy="default", progress=True, restart=False):
    """Train a model as `config` (see `depnet_tf.training.config`) says; returns a summary dict.

    The steps: read and check the manifest, build and compile the model,
    build the datasets, `fit` with the run's callbacks, then write the outputs.
    Progress (Keras' bar) goes to standard error. A killed run of the same
    config resumes; a backup of another config is refused unless `restart`
    (`check_resume`).
    """
    data, settings = config["data"], config["train"]
    keras.utils.set_random_seed(data["seed"])  # same initial head weights in every run
    if settings["deterministic"]:
        tf.config.experimental.enable_op_determinism()
    manifest, overlap = read_manifest(data)
    digest = config_sha256(config)
    distribution = make_strategy(strategy)
    shard = worker_shard(distribution)
    model, trainee = build_trainee(config, distribution, shard, distributed=strategy != "default")
    backbone = backbone_record(model, config["model"]["backbone_weights"])
    clock = EpochClock()
    training, validation = training_datasets(config, model, manifest, clock, shard)
    shared_out_dir = settings["out_dir"]
    writes_to = worker_out_dir(shared_out_dir, shard)  # this worker's folder (or URL)
    out_dir = staging_dir(writes_to) if is_url(writes_to) else writes_to
    run_settings = {**settings, "out_dir": out_dir}
    if shard is not None:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        training = training.with_options(options)

    for folder in RUN_FOLDERS:
        remove_stale_temporaries(os.path.join(out_dir, folder))
    check_run_space(out_dir, model, trainee)
    os.makedirs(os.path.join(out_dir, "checkpoints"), exist_ok=True)
    # One process writing a URL run mirrors its backup there: any machine can resume it.
    mirror_to = writes_to if out_dir != writes_to and shard is None else None
    if mirror_to is not None and not restart and fetch_backup(mirror_to, out_dir):
        log.info("resuming the run mirrored in %s", mirror_to)
    check_resume(out_dir, digest, restart, mirror_to)
    trim_history(
        os.path.join(out_dir, "history.csv"), backup_epochs(os.path.join(out_dir, "backup"))
    )
    callbacks, nan_stop, early_stop = run_callbacks(
        run_settings, clock, validation, mirror_to, digest
    )
    # The datasets shuffle themselves (seeded, resumable); Keras cannot shuffle a tf.data.Dataset.
    # Keras' progress bar writes to standard output, which belongs to the summary; on
    # a terminal it is a live bar, elsewhere (logs, CI) one line per epoch.
    verbose = (1 if sys.stderr.isatty() else 2) if progress else 0
    with contextlib.redirect_stdout(sys.stderr):
        history = trainee.fit(
            training,
            epochs=settings["max_epochs"],
            callbacks=callbacks,
            shuffle=False,
            verbose=verbose,
        )
    if nan_stop.nan_iteration is not None:
        raise TrainingError(
            f"the loss became NaN at iteration {nan_stop.nan_iteration}; training stopped and no "
            "model was written. Lower train.base_lr or check the labels and features."
        )

    summary = {
        "epochs": len(history.epoch),
        "iterations": early_stop.iteration,
        "early_stopped_at_iteration": early_stop.stopped_iteration,
        "best_train_iteration_loss": early_stop.best,
        "arch": config["arch"],
        "precision": model.config.precision,
        "xla": bool(trainee.jit_compile),
        "backbone_weights": describe_weights(config["model"]["backbone_weights"]),
        "weights_sha256": weights_hash(model),
        "config_sha256": digest,
    }
    if overlap:
        summary["subject_overlap_allowed"] = {s: list(v) for s, v in overlap.items()}
    model.provenance = {**run_record(config, model, manifest), "backbone": backbone}
    summary = write_outputs(config, model, trainee, validation, summary, out_dir)
    if shard is not None:
        summary["worker"] = shard[0]
    if writes_to == shared_out_dir and out_dir != writes_to:
        upload_tree(out_dir, writes_to, last=("model.keras",))
        if mirror_to is not None:
            forget_backup(mirror_to)
    if out_dir != shared_out_dir:
        remove(out_dir)
    summary["model"] = os.path.join(shared_out_dir, "model.keras")
    return summary
