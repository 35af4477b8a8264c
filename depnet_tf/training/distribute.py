"""tf.distribute strategies for `train`, and one workaround for Keras 3 multi-worker `fit`."""

import os
import types

import tensorflow as tf

from depnet_tf.constants import STRATEGIES


def make_strategy(name):
    """`default`, `mirrored` (all local devices) or `multiworker` (configured by TF_CONFIG)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "the multiworker strategy needs the TF_CONFIG environment variable "
                "(cluster and task), see the README"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"`strategy` must be one of {STRATEGIES}. Received: strategy={name!r}")


def worker_shard(strategy):
    """(this worker's index, number of workers) under MultiWorkerMirroredStrategy, else None."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return None
    resolver = strategy.cluster_resolver
    return resolver.task_id, len(resolver.cluster_spec().as_dict().get("worker", []))


def worker_out_dir(out_dir, shard):
    """Where this worker writes a run's files: `out_dir` for the chief, else a temporary folder.

    Under MultiWorkerMirroredStrategy every worker runs the same callbacks, so
    with one shared `train.out_dir` they would overwrite each other's files. As
    Keras does for its own callbacks, only the chief (worker 0) writes to
    `out_dir`; worker i writes to `out_dir/workertemp_<i>`, which `train`
    removes once the run has finished (a killed worker resumes from it).
    """
    if shard is None or shard[0] == 0:
        return out_dir
    return os.path.join(out_dir, f"workertemp_{shard[0]}")


def _build_from_local_batch(model, iterator=None, data_batch=None):
    if model._distribute_strategy is None:
        return
    if iterator is not None:
        for _, _, it in iterator:
            batch = next(it)
            data_batch = tf.nest.map_structure(
                lambda x: (
                    model.distribute_strategy.experimental_local_results(x)[0]
                    if isinstance(x, tf.distribute.DistributedValues)
                    else x
                ),
                batch,
            )
            break
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=data_batch)


def patch_multiworker_fit(model):
    """Make `model.fit` work under MultiWorkerMirroredStrategy with Keras 3.

    Keras 3.15's TensorFlow trainer fails there in two places
    (keras-team/keras#20585):

    1. Before training it builds the model from the first batch, which it
       reduces across replicas as one value; an `(x, y)` batch is a tuple of
       per-replica values and the reduce fails ("Attempt to convert a value
       (PerReplica ...)"). Only the batch's shapes matter there, so each leaf's
       local value is used instead.
    2. After every step it averages the logs across workers with
       `reduce("MEAN", v, axis=0)`, which fails for the scalar loss and
       metrics. The train step here returns them with shape (1,), which that
       reduce turns into the cross-worker mean.

    Remove once fixed upstream.
    """
    model._maybe_symbolic_build = types.MethodType(_build_from_local_batch, model)
    train_step = model.train_step

    def train_step_with_vector_logs(data):
        return {name: tf.reshape(value, (1,)) for name, value in train_step(data).items()}

    model.train_step = train_step_with_vector_logs
    return model
