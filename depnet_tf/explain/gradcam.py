"""Grad-CAM of the BDI-II score on DepNet's low-level features, per frame.

The paper concludes that DepNet models depression "with visual explanation"
(section 6). Grad-CAM (Selvaraju et al., 2017) on the LLF answers where in
each frame the score came from. For clip b and frame t, with A[b, t] the LLF
maps (h, w, C) and S_b the clip's score:

    alpha[b, t, c] = mean over (h, w) of dS_b / dA[b, t, h, w, c]
    cam[b, t]      = relu(sum_c alpha[b, t, c] * A[b, t, :, :, c])

The maps are returned unnormalised, so other tools can check them; display
code normalises. A model built under a mixed policy is explained through its
float32 twin (`float32_model`): gradients of one score through 16-bit layers
round away or underflow, so every gradient here is taken in float32.
"""

import weakref

import keras
import numpy as np
import tensorflow as tf

_TWINS = weakref.WeakKeyDictionary()  # a mixed-precision model -> its float32 twin


def float32_model(model):
    """`model` if it computes in float32, else its float32 twin (same weights, kept per model)."""
    if model.config.precision == "float32":
        return model
    if model not in _TWINS:
        _TWINS[model] = model.with_precision("float32")
    return _TWINS[model]


def feature_maps_model(model):
    """A model from the regressor's input to (LLF maps, score), sharing its weights.

    Sequence models give (B, T, h, w, C); single-image models (B, h, w, C).
    """
    after = "channel_max_pool" if model.architecture.is_sequence else "gap"
    return keras.Model(model.input, [model.get_layer(after).input, model.output])


def cam_tensor(maps, gradients):
    """relu(sum_c mean_hw(gradients) * maps) over (B, T, h, w, C) -> (B, T, h, w), in-graph."""
    alpha = tf.reduce_mean(gradients, axis=(2, 3), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(alpha * maps, axis=-1))


def _cam(maps, gradients):
    return cam_tensor(maps, gradients).numpy().astype(np.float32)


def grad_cam_maps(maps_and_scores, inputs):
    """Grad-CAM of any model that returns (feature maps, scores (B, 1)).

    The maps are (B, T, h, w, C), or (B, h, w, C) for single images (then
    T = 1). Each score must depend on its own sample only (as a regressor's
    do), so the gradient of their sum gives every sample's own gradients.
    """
    inputs = tf.convert_to_tensor(np.asarray(inputs, np.float32))
    with tf.GradientTape() as tape:
        maps, scores = maps_and_scores(inputs, training=False)
        total = tf.reduce_sum(scores)
    gradients = tape.gradient(total, maps)
    if len(maps.shape) == 4:
        maps, gradients = maps[:, None], gradients[:, None]
    return _cam(maps, gradients)


def grad_cam(model, clips):
    """Grad-CAM of the score with respect to the LLF of every frame.

    Args:
        model: a `DepressionRegressor`.
        clips: float RGB 0-255, (B, T, S, S, 3) for sequence models or
            (B, S, S, 3) for single-image models (then T = 1).

    Returns:
        float32 (B, T, h, w): (B, 5, 7, 7) at the paper's settings.
    """
    return grad_cam_maps(feature_maps_model(float32_model(model)), clips)


def grad_cam_from_features(model, features):
    """Grad-CAM from cached features, through `model.head_model()`.

    The cache holds the channel max-pooled LLF P (groups of `channel_pool`
    channels reduced to their maximum), so the gradient is taken at P, and
    `alpha` and the weighted sum run over P's channels. This equals `grad_cam`
    exactly when each group's winning channel is the same at every position of
    a frame (always so when the LLF is 1 x 1, at 32 px inputs): the max-pool
    routes a group's gradient to its winning channel, so both sums then hold
    the same products. Otherwise it is Grad-CAM of the pooled map, which routes
    the gradient per position. Single-image models cache the average-pooled
    vector, which has no spatial map: their maps are (B, 1, 1, 1).

    Args:
        model: a `DepressionRegressor`.
        features: its cached features, (B, T, N) or (B, 2048).

    Returns:
        float32 (B, T, h, w).
    """
    inputs = tf.convert_to_tensor(np.asarray(features, np.float32))
    head = float32_model(model).head_model()
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        total = tf.reduce_sum(head(inputs, training=False))
    gradients = tape.gradient(total, inputs)
    if model.architecture.is_sequence:
        shape = (-1, *model.get_layer("channel_max_pool").output.shape[1:])
    else:
        shape = (-1, 1, 1, 1, inputs.shape[-1])
    return _cam(tf.reshape(inputs, shape), tf.reshape(gradients, shape))
