"""Keras' own layer test harness (`run_layer_test`), run under each precision we support.

`keras.src.testing.TestCase.run_layer_test` is what Keras tests its own layers
with: it builds the layer, calls it symbolically and eagerly, trains it for a
step, and rebuilds it under `mixed_float16`, checking that the symbolic output
dtype matches the eager one and that every variable stays float32. Here it also
runs with each supported precision as the global policy.
"""

import keras
from absl.testing import parameterized
from keras.src.testing import TestCase

from depnet_tf.layers.precision import PRECISIONS

# (test name suffix, policy) pairs for `parameterized.named_parameters`.
POLICIES = [(name, name) for name in PRECISIONS]


class LayerHarness(TestCase):
    """A `TestCase` whose `check` runs Keras' harness with `precision` as the global policy."""

    def check(self, precision, layer_cls, init_kwargs, output_dtype=None, **kwargs):
        # Keras' `setUp` clears the global state, the policy included; set it afterwards.
        keras.config.set_dtype_policy(precision)
        self.addCleanup(keras.config.set_dtype_policy, "float32")
        expected = kwargs.get("expected_output")
        if expected is not None:
            # Keras takes values or a shape; the values are checked in float32 (16-bit
            # results are compared with float32 ones in tests/models/test_precision.py).
            kwargs.pop("expected_output_shape", None)
            if precision != "float32":
                kwargs["expected_output_shape"] = kwargs.pop("expected_output").shape
            else:  # the harness compares types too: a backend tensor, as the layer returns
                kwargs["expected_output"] = keras.ops.convert_to_tensor(expected)
        self.run_layer_test(
            layer_cls,
            init_kwargs,
            expected_output_dtype=output_dtype or keras.DTypePolicy(precision).compute_dtype,
            **kwargs,
        )


__all__ = ["POLICIES", "LayerHarness", "parameterized"]
