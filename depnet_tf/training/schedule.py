"""Caffe's `inv` learning-rate policy (paper, section 5.2.1)."""

import keras
from keras import ops

from depnet_tf.constants import BASE_LR, LR_GAMMA, LR_POWER


@keras.saving.register_keras_serializable(package="depnet_tf")
class CaffeInverseDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr = base_lr * (1 + gamma * iter) ^ (-power), Caffe's `inv` policy.

    As in Caffe's `SGDSolver::GetLearningRate`, `iter` is the number of updates
    already made, so the first update uses `base_lr`. Keras' `InverseTimeDecay`
    has no `power`, hence this schedule. The paper: base lr 1e-5, gamma 1e-4,
    power 0.75.

    Args:
        base_lr: float, the rate at iteration 0. Defaults to 1e-5.
        gamma: float, defaults to 1e-4.
        power: float, defaults to 0.75.

    Examples:
    >>> schedule = CaffeInverseDecay()
    >>> round(float(schedule(10_000)), 12)
    5.946e-06
    """

    def __init__(self, base_lr=BASE_LR, gamma=LR_GAMMA, power=LR_POWER):
        for name, value in (("base_lr", base_lr), ("gamma", gamma), ("power", power)):
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
        self.base_lr = float(base_lr)
        self.gamma = float(gamma)
        self.power = float(power)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        return self.base_lr * ops.power(1.0 + self.gamma * step, -self.power)

    def get_config(self):
        return {"base_lr": self.base_lr, "gamma": self.gamma, "power": self.power}
