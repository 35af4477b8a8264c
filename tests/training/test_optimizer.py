import keras
import numpy as np
import pytest
import tensorflow as tf

from depnet_tf.training import CaffeInverseDecay, CaffeSGD, EuclideanLoss


def caffe_reference(w, b, x, y, steps, base_lr, gamma, power, mu, wd):
    """Caffe SGDSolver with the inv policy, written out: v = mu*v + lr*(g + wd*w); w -= v."""
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    for iteration in range(steps):
        lr = base_lr * (1 + gamma * iteration) ** -power
        residual = x @ w + b - y  # EuclideanLoss: dL/dpred = residual / N
        gw = x.T @ residual / len(x)
        gb = residual.mean(axis=0)
        vw = mu * vw + lr * (gw + wd * w)
        vb = mu * vb + lr * (gb + wd * b)
        w, b = w - vw, b - vb
    return w, b


@pytest.mark.parametrize("mu", [0.9, 0.0])  # 0.0: the plain (unfused) step, checked too
def test_three_steps_equal_a_hand_computed_caffe_update(mu):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3))
    y = rng.normal(size=(8, 1))
    w0 = rng.normal(size=(3, 1))
    b0 = np.array([0.5])
    settings = dict(base_lr=0.05, gamma=0.5, power=0.75, mu=mu, wd=0.1)

    inputs = keras.Input((3,))
    dense = keras.layers.Dense(1)
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([w0.astype("float32"), b0.astype("float32")])
    optimizer = CaffeSGD(
        CaffeInverseDecay(settings["base_lr"], settings["gamma"], settings["power"]),
        momentum=settings["mu"],
        coupled_weight_decay=settings["wd"],
    )
    model.compile(optimizer=optimizer, loss=EuclideanLoss())
    for _ in range(3):
        model.train_on_batch(x.astype("float32"), y.astype("float32"))

    w, b = caffe_reference(w0, b0, x, y, 3, **settings)
    np.testing.assert_allclose(dense.kernel.numpy(), w, atol=1e-6)
    np.testing.assert_allclose(dense.bias.numpy(), b, atol=1e-6)
    # Keras' own decoupled weight_decay would differ: the test can tell them apart.
    assert np.abs(caffe_reference(w0, b0, x, y, 3, **{**settings, "wd": 0.0})[0] - w).max() > 1e-4


def test_serializable_with_schedule():
    optimizer = CaffeSGD(CaffeInverseDecay(0.1), momentum=0.8, coupled_weight_decay=1e-3)
    clone = CaffeSGD.from_config(optimizer.get_config())
    assert clone.coupled_weight_decay == 1e-3 and clone.momentum == 0.8
    assert isinstance(
        clone.learning_rate if not callable(clone._learning_rate) else clone._learning_rate,
        CaffeInverseDecay,
    )


def test_refuses_decoupled_decay():
    with pytest.raises(ValueError, match="coupled_weight_decay"):
        CaffeSGD(0.1, weight_decay=0.01)


class UnfusedCaffeSGD(CaffeSGD):
    """The same rule through keras.optimizers.SGD's own (unfused) update."""

    def _fused_momentum_step(self, gradient, variable, learning_rate):
        keras.optimizers.SGD.update_step(self, gradient, variable, learning_rate)


def _train_two_dense_layers(optimizer_class, momentum, strategy=None):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 6)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    with (strategy or tf.distribute.get_strategy()).scope():
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4), keras.layers.Dense(1)])
        model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
        model.compile(
            optimizer=optimizer_class(0.05, momentum=momentum, coupled_weight_decay=0.01),
            loss=EuclideanLoss(),
        )
    for _ in range(4):
        model.train_on_batch(x, y)
    return model.get_weights(), [v.numpy() for v in model.optimizer.variables]


def test_fused_update_is_bitwise_the_keras_sgd_rule():
    # With momentum 0 both would take the same (unfused) step, so the comparison
    # would prove nothing; that case is checked against the hand computation above.
    fused_weights, fused_slots = _train_two_dense_layers(CaffeSGD, 0.9)
    plain_weights, plain_slots = _train_two_dense_layers(UnfusedCaffeSGD, 0.9)
    for fused, plain in zip(fused_weights + fused_slots, plain_weights + plain_slots):
        np.testing.assert_array_equal(fused, plain)


def test_fused_update_under_mirrored_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    mirrored, _ = _train_two_dense_layers(CaffeSGD, 0.9, strategy)
    single, _ = _train_two_dense_layers(CaffeSGD, 0.9)
    for a, b in zip(mirrored, single):
        np.testing.assert_allclose(a, b, atol=1e-6)
