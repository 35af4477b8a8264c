import numpy as np
import pytest

from depnet_tf.layers import FeatureAggregation
from tests.roundtrip import assert_config_roundtrip, assert_keras_file_roundtrip, wrap_layer


def temporal_conv_same(x, kernel, bias):
    """Reference k x 1 convolution along time with TF `same` padding.

    x: (B, T, N); kernel: (k, 1, 1, F) as Keras stores it; returns (B, T, N, F).
    TensorFlow pads (k - 1) // 2 before and the rest after.
    """
    k = kernel.shape[0]
    before = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (before, k - 1 - before), (0, 0)))
    steps = x.shape[1]
    out = np.zeros(x.shape + (kernel.shape[-1],))
    for t in range(steps):
        window = padded[:, t : t + k, :]  # (B, k, N)
        out[:, t] = np.einsum("bkn,kf->bnf", window, kernel[:, 0, 0, :])
    return out + bias


def reference_branches(fam, x):
    outputs = []
    for conv in fam.temporal_convs:
        kernel, bias = (np.asarray(w) for w in conv.weights)
        outputs.append(temporal_conv_same(x, kernel, bias).max(axis=1, keepdims=True))
    outputs.append(x.max(axis=1, keepdims=True)[..., None])
    outputs.append(x.mean(axis=1, keepdims=True)[..., None])
    return np.concatenate(outputs, axis=-1)  # (B, 1, N, C)


def reference_fam(fam, x):
    kernel, bias = (np.asarray(w) for w in fam.fuse.weights)
    return np.einsum("bonc,cf->bonf", reference_branches(fam, x), kernel[0, 0]) + bias


@pytest.fixture
def fam_and_input():
    fam = FeatureAggregation((3, 5, 9), branch_filters=3, hlf_channels=4)
    x = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
    fam(x)
    for weight in fam.weights:  # non-zero biases too, so they are checked
        weight.assign(np.random.default_rng(1).normal(size=weight.shape))
    return fam, x


def test_every_branch_matches_numpy(fam_and_input):
    fam, x = fam_and_input
    branches = np.asarray(fam.branches(x))
    expected = reference_branches(fam, x.astype("float64"))
    assert branches.shape == (2, 1, 6, 3 * 3 + 2) == expected.shape
    for name, channels in [
        ("conv 3x1", slice(0, 3)),
        ("conv 5x1", slice(3, 6)),
        ("conv 9x1", slice(6, 9)),
        ("max pool", slice(9, 10)),
        ("avg pool", slice(10, 11)),
    ]:
        np.testing.assert_allclose(
            branches[..., channels], expected[..., channels], rtol=1e-4, atol=1e-4, err_msg=name
        )


@pytest.mark.parametrize("kernel_sizes", [(2, 4, 1), (5,), (1, 7)])
def test_even_single_and_wide_kernels_match_numpy(kernel_sizes):
    fam = FeatureAggregation(kernel_sizes, branch_filters=2, hlf_channels=3)
    x = np.random.default_rng(2).normal(size=(2, 5, 4)).astype("float32")
    fam(x)
    for weight in fam.weights:
        weight.assign(np.random.default_rng(3).normal(size=weight.shape))
    np.testing.assert_allclose(
        np.asarray(fam.branches(x)),
        reference_branches(fam, x.astype("float64")),
        rtol=1e-4,
        atol=1e-4,
    )


def test_gradients_equal_those_of_keras_conv2d(fam_and_input):
    import tensorflow as tf

    fam, x = fam_and_input
    x = tf.constant(x)
    kernels = [conv.kernel for conv in fam.temporal_convs]
    with tf.GradientTape(persistent=True) as tape:
        ours = tf.reduce_sum(fam.branches(x)[..., :9] ** 2)
        plain = tf.reduce_sum(
            tf.concat(
                [
                    tf.reduce_max(conv(x[..., None]), axis=1, keepdims=True)
                    for conv in fam.temporal_convs
                ],
                axis=-1,
            )
            ** 2
        )
    for ours_grad, plain_grad in zip(tape.gradient(ours, kernels), tape.gradient(plain, kernels)):
        np.testing.assert_allclose(
            np.asarray(ours_grad), np.asarray(plain_grad), rtol=1e-4, atol=1e-4
        )


def test_9x1_kernel_runs_on_5_steps_with_same_padding(fam_and_input):
    fam, x = fam_and_input
    conv9 = fam.temporal_convs[2]
    assert conv9.kernel_size == (9, 1) and conv9.padding == "same"
    assert np.asarray(conv9(x[..., None])).shape == (2, 5, 6, 3)


def test_output_matches_numpy_and_shape(fam_and_input):
    fam, x = fam_and_input
    out = np.asarray(fam(x))
    np.testing.assert_allclose(out, reference_fam(fam, x.astype("float64")), rtol=1e-4, atol=1e-4)
    assert out.shape == fam.compute_output_shape(x.shape) == (2, 1, 6, 4)


def test_paper_dimensions():
    fam = FeatureAggregation()
    assert fam.compute_output_shape((None, 5, 12544)) == (None, 1, 12544, 64)
    assert fam.concat_channels == 3 * 32 + 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kernel_sizes": ()}, "kernel_sizes"),
        ({"kernel_sizes": (3, 0)}, r"kernel_sizes=\(3, 0\)"),
        ({"branch_filters": 0}, "branch_filters=0"),
        ({"hlf_channels": -1}, "hlf_channels=-1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FeatureAggregation(**kwargs)


def test_wrong_rank_is_refused():
    with pytest.raises(ValueError, match=r"\(batch, T, N\)"):
        FeatureAggregation()(np.zeros((1, 5, 2, 2), "float32"))


def test_roundtrips(tmp_path):
    fam = FeatureAggregation((3, 5), branch_filters=2, hlf_channels=3, name="hlf")
    clone = assert_config_roundtrip(fam)
    assert clone.kernel_sizes == (3, 5)
    x = np.random.default_rng(3).normal(size=(2, 5, 7)).astype("float32")
    assert_keras_file_roundtrip(wrap_layer(fam, (5, 7)), x, tmp_path)
