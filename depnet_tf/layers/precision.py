"""Precisions (Keras dtype policies) that DepNet supports, and building under one."""

import contextlib

import keras

from depnet_tf.constants import PRECISIONS


def policy_name(dtype):
    """The policy name of `dtype` (a name, a `DTypePolicy`, its config, or `None` = global)."""
    if dtype is None:
        return keras.config.dtype_policy().name
    if isinstance(dtype, keras.DTypePolicy):
        return dtype.name
    if isinstance(dtype, dict):  # a serialized policy, as in a `.keras` file's config
        return keras.dtype_policies.deserialize(dtype).name
    return keras.DTypePolicy(dtype).name


def check_precision(dtype, where="precision"):
    """The supported precision named by `dtype` (`None`: the global policy), or a `ValueError`."""
    try:
        name = policy_name(dtype)
    except (ValueError, TypeError):
        name = None
    if name not in PRECISIONS:
        shown = repr(dtype) if dtype is not None else f"the global dtype policy {name!r}"
        raise ValueError(f"{where} must be one of {PRECISIONS}. Received: {shown[:80]}")
    return name


@contextlib.contextmanager
def policy_scope(dtype):
    """Build layers under the dtype policy `dtype`, then restore the global policy.

    Keras gives every layer built without `dtype=` the global policy, so a whole
    functional network (SENet50's ~270 layers) built inside this scope computes
    in `dtype`. Keras keeps the global policy per thread.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy_name(dtype))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
