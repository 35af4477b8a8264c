"""Training under mixed precision: Caffe's solver, loss scaling and XLA keep their meaning."""

import keras
import numpy as np
import pytest

from depnet_tf import DepNetConfig, build_model
from depnet_tf.layers.precision import PRECISIONS
from depnet_tf.training.config import merge_config
from depnet_tf.training.trainer import compile_like_the_paper, paper_optimizer, use_xla
from tests.training.test_optimizer import caffe_reference

UNIT_ROUNDOFF = {"float32": 2.0**-24, "mixed_bfloat16": 2.0**-8, "mixed_float16": 2.0**-11}


@pytest.mark.parametrize("precision", PRECISIONS)
def test_a_caffe_update_under_each_policy_stays_within_its_tolerance(precision):
    """The hand-written Caffe update (float64) against three steps of a 16-bit Dense.

    Only the forward and backward passes are 16-bit; the weights, the momentum,
    the decay and the learning rate are float32. So each step's update carries
    the gradient's relative error, a few unit roundoffs u: the weights may be off
    by at most 32 u times the total movement, plus float32's own 1e-6.
    """
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    w0, b0 = rng.normal(size=(3, 1)), np.array([0.5])
    settings = dict(base_lr=0.05, gamma=0.5, power=0.75, mu=0.9, wd=0.1)
    train = {
        "base_lr": settings["base_lr"],
        "lr_gamma": settings["gamma"],
        "lr_power": settings["power"],
        "momentum": settings["mu"],
        "weight_decay": settings["wd"],
    }
    inputs = keras.Input((3,))
    dense = keras.layers.Dense(1, dtype=precision)
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([w0.astype("float32"), b0.astype("float32")])
    model.compile(optimizer=paper_optimizer(train, precision), loss="mse")
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer) == (
        precision == "mixed_float16"
    )
    # Euclidean loss = MSE / 2 for one output; scale the labels' gradient the same way.
    model.compile(optimizer=optimizer, loss=lambda t, p: keras.ops.mean((p - t) ** 2) / 2)
    for _ in range(3):
        model.train_on_batch(x.astype("float32"), y.astype("float32"))
    w, b = caffe_reference(w0, b0, x, y, 3, **settings)
    moved = max(np.abs(w - w0).max(), np.abs(b - b0).max())
    tolerance = 32 * UNIT_ROUNDOFF[precision] * moved + 1e-6
    np.testing.assert_allclose(dense.kernel.numpy(), w, atol=tolerance)
    np.testing.assert_allclose(dense.bias.numpy(), b, atol=tolerance)
    assert dense.kernel.dtype == "float32"


def _train_head(precision, steps, features, labels):
    """`steps` batches of DepNet's head on one fixed batch, compiled as `depnet train` does."""
    keras.utils.set_random_seed(0)
    config = DepNetConfig(
        num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=8, dropout=0.0
    )
    model = build_model("depnet", config.replace(precision=precision))
    head = model.head_model()
    train = merge_config({"train": {"base_lr": 1e-4}})["train"]
    compile_like_the_paper(head, train, jit_compile=True, precision=precision)
    for _ in range(steps):
        head.train_on_batch(features, labels)
    return head


def test_mixed_float16_scales_the_loss_and_matches_float32():
    """BDI-II labels far from the first predictions overflow float16 at Keras'
    initial loss scale (2^15): those steps are skipped and the scale halves until
    the gradients fit. The applied steps are the float32 run's: same weights,
    within 32 float16 unit roundoffs (1.6%) of the distance they moved."""
    rng = np.random.default_rng(0)
    features = rng.uniform(0, 2, (4, 3, 256)).astype("float32")  # (B, T, N) pooled LLFs
    labels = rng.uniform(40, 60, (4, 1)).astype("float32")
    steps = 12
    mixed = _train_head("mixed_float16", steps, features, labels)
    optimizer = mixed.optimizer
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    scale = float(optimizer.dynamic_scale.numpy())
    applied = int(optimizer.iterations.numpy())
    assert scale < 2.0**15, "the loss scale never changed"
    assert 0 < applied < steps, (applied, scale)
    # Each skipped step halved the scale once.
    assert scale == 2.0 ** (15 - (steps - applied))

    reference = _train_head("float32", applied, features, labels)
    initial = _train_head("float32", 0, features, labels)
    for got, want, start in zip(mixed.weights, reference.weights, initial.weights):
        moved = np.abs(want.numpy() - start.numpy()).max()
        np.testing.assert_allclose(
            got.numpy(), want.numpy(), atol=32 * UNIT_ROUNDOFF["mixed_float16"] * moved + 1e-6
        )


def test_xla_where_asked_never_deterministic_or_distributed():
    import tensorflow as tf

    train = merge_config({})["train"]
    assert train["xla"] == "auto"  # on GPUs and TPUs, off on CPU-only machines
    assert use_xla(train, distributed=False) == bool(tf.config.list_physical_devices("GPU"))
    forced = {**train, "xla": True}
    assert use_xla(forced, distributed=False)
    assert not use_xla({**train, "xla": False}, distributed=False)
    assert not use_xla({**forced, "deterministic": True}, distributed=False)
    assert not use_xla(forced, distributed=True)
    with pytest.raises(ValueError, match="'train.xla' must be true, false or auto"):
        merge_config({"train": {"xla": "yes"}})
