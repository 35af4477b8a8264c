"""Which frames drive a clip's score (the FAM's temporal max-pools), and pixel attributions.

`frame_importance` reads the FAM (paper, section 4.2): each conv branch and
the input's own max-pool keep, at every one of the N = 12,544 positions and for
every filter, the response of one frame only. With M the max-pooled outputs,
R the per-frame responses and S the clip's score, frame t's importance is

    sum over branches, positions n and filters f of |dS / dM[n, f]| * [argmax_t R[t, n, f] = t]

divided by the same sum over all frames: the share of the pooled values won
by frame t, weighted by how much the score depends on each. The average-pool
branch weighs every frame equally and is left out. The weights are
non-negative and sum to 1 per clip (uniform when no gradient reaches the pools).

`integrated_gradients` (Sundararajan et al., 2017) attributes the score to the
input pixels along the straight path from a baseline.
"""

import weakref

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from depnet_tf.explain.gradcam import cam_tensor, float32_model


def _head_after_fam(model, hlf):
    """The score from the HLF: flatten, fc1, ReLU, dropout (inference), bdi_ii."""
    x = hlf
    for name in ("hlf_flatten", "fc1", "fc1_relu", "dropout", "bdi_ii"):
        x = (
            model.get_layer(name)(x, training=False)
            if name == "dropout"
            else model.get_layer(name)(x)
        )
    return x


def frame_importance(model, clips):
    """One non-negative weight per frame, summing to 1 per clip (see the module docstring).

    Args:
        model: a `DepressionRegressor`.
        clips: float RGB 0-255, (B, T, S, S, 3); single-image models: (B, S, S, 3).

    Returns:
        float32 (B, T) ((B, 1) of ones for single-image models).
    """
    return explain_clips(model, clips)[2]


def mean_face(model, clips):
    """The default baseline: every pixel the backbone's mean colour (VGGFace2 for SENet50).

    The model's preprocessing subtracts that mean, so the backbone sees zeros.
    """
    mean_rgb = np.asarray(model.architecture.backbone.mean_bgr, np.float32)[::-1]
    return np.broadcast_to(mean_rgb, np.shape(clips)).astype(np.float32)


def integrated_gradients(model, clips, baseline=None, steps=64, batch_size=16):
    """Integrated gradients of the score on the input pixels.

    attribution = (x - x') * mean of dS/dx over the path x' + a (x - x'), with
    a on `steps` + 1 evenly spaced points of [0, 1] (trapezoid rule). The
    attributions of a clip sum to about S(x) - S(x') (completeness).

    Args:
        model: a `DepressionRegressor`.
        clips: float RGB 0-255, (B, T, S, S, 3) or (B, S, S, 3).
        baseline: same shape as `clips`; default `mean_face`.
        steps: intervals of the path integral.
        batch_size: path points run through the model at once.

    Returns:
        float32, the shape of `clips`.
    """
    clips = np.asarray(clips, np.float32)
    baseline = mean_face(model, clips) if baseline is None else np.asarray(baseline, np.float32)
    model = float32_model(model)  # pixel gradients in float32
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0, np.float32)
    weights[[0, -1]] = 0.5
    attributions = np.zeros_like(clips)
    for index in range(len(clips)):
        difference = clips[index] - baseline[index]
        total = np.zeros_like(difference)
        for start in range(0, len(alphas), batch_size):
            chunk = alphas[start : start + batch_size]
            points = tf.convert_to_tensor(
                baseline[index][None] + chunk.reshape((-1,) + (1,) * difference.ndim) * difference
            )
            with tf.GradientTape() as tape:
                tape.watch(points)
                scores = tf.reduce_sum(model(points, training=False))
            gradients = tape.gradient(scores, points).numpy()
            shape = (-1,) + (1,) * difference.ndim
            total += np.sum(gradients * weights[start : start + batch_size].reshape(shape), 0)
        attributions[index] = difference * total / steps
    return attributions


_EXPLAINERS = weakref.WeakKeyDictionary()  # model -> its compiled explainer


def explain_clips(model, clips):
    """Scores, Grad-CAM maps and frame importances of clips, from one backbone pass.

    The backbone runs once, forward; one backward pass through the head gives
    both the gradient at the LLF (`grad_cam`) and at the FAM's temporal
    max-pools, all in one compiled graph. The maps equal `grad_cam`'s;
    `frame_importance` is the third result.

    Returns:
        (scores float64 (B,), cams float32 (B, T, h, w), importance float32 (B, T)).
    """
    if model not in _EXPLAINERS:
        _EXPLAINERS[model] = _explainer(model)
    scores, cams, weights = _EXPLAINERS[model](tf.convert_to_tensor(np.asarray(clips, np.float32)))
    weights = weights.numpy().astype(np.float64)
    totals = weights.sum(axis=1, keepdims=True)
    share = np.where(totals > 0, weights / np.where(totals > 0, totals, 1), 1 / weights.shape[1])
    return scores.numpy().astype(np.float64), cams.numpy(), share.astype(np.float32)


def _explainer(model):
    """The compiled (scores, cams, unnormalised frame weights) function of `model`.

    The backbone's forward pass runs in the model's own precision (it is most
    of the work); the LLF maps are then cast to float32 and everything with a
    gradient runs through the float32 twin's head, so a mixed-precision model's
    scores here are its 16-bit features scored in float32.
    """
    sequence = model.architecture.is_sequence
    after = "channel_max_pool" if sequence else "gap"
    to_maps = keras.Model(model.input, model.get_layer(after).input)
    model = float32_model(model)
    fam = model.get_layer("hlf") if sequence else None

    @tf.function(reduce_retracing=True)
    def explain(clips):
        maps = tf.cast(to_maps(clips, training=False), tf.float32)
        if not sequence:
            maps = maps[:, None]  # one frame per sample
        with tf.GradientTape() as tape:
            tape.watch(maps)
            if sequence:
                features = model.get_layer("temporal_concat")(
                    model.get_layer("channel_max_pool")(maps)
                )
                responses = fam.temporal_responses(features)
                pooled = [ops.max(r, axis=1, keepdims=True) for r in responses]
                average = ops.expand_dims(ops.mean(features, axis=1, keepdims=True), -1)
                scores = _head_after_fam(
                    model, fam.fuse_branches(ops.concatenate([*pooled, average], axis=-1))
                )
            else:
                responses, pooled = [], []
                x = model.get_layer("gap")(maps[:, 0])
                for name in ("fc1", "fc1_relu", "dropout", "bdi_ii"):
                    x = model.get_layer(name)(x, training=False)
                scores = x
            total = tf.reduce_sum(scores)
        map_gradients, pooled_gradients = tape.gradient(total, [maps, pooled])
        cams = cam_tensor(maps, map_gradients)
        steps = maps.shape[1]
        weights = tf.zeros((tf.shape(maps)[0], steps))
        for response, gradient in zip(responses, pooled_gradients):
            won = tf.one_hot(tf.argmax(response, axis=1), steps, axis=1)  # (B, T, N, F)
            weights += tf.reduce_sum(won * tf.abs(gradient), axis=(2, 3))
        return scores[:, 0], cams, weights

    return explain
