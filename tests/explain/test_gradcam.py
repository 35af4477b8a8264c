"""Grad-CAM, frame importance and integrated gradients: exact where a hand derivation exists."""

import keras
import numpy as np
import pytest

from depnet_tf import DepNetConfig, build_model
from depnet_tf.explain import (
    frame_importance,
    grad_cam,
    grad_cam_from_features,
    integrated_gradients,
    mean_face,
)
from depnet_tf.explain.gradcam import grad_cam_maps

SMALL = DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=8)


def tiny_maps_model(kernel, weights):
    """Clips (B, T, 6, 6, 2) -> maps A = a fixed 1x1 conv (B, T, 6, 6, 3), score = w . mean(A)."""
    clips = keras.Input((2, 6, 6, 2))
    maps = keras.layers.Conv3D(3, 1, use_bias=False, name="maps")(clips)
    pooled = keras.layers.GlobalAveragePooling3D()(maps)
    score = keras.layers.Dense(1, use_bias=False, name="score")(pooled)
    model = keras.Model(clips, [maps, score])
    model.get_layer("maps").set_weights([kernel.reshape(1, 1, 1, 2, 3)])
    model.get_layer("score").set_weights([weights.reshape(3, 1)])
    return model


def test_grad_cam_equals_a_hand_derivation():
    rng = np.random.default_rng(0)
    kernel, weights = rng.normal(size=(2, 3)), np.array([0.5, -1.0, 2.0])
    clips = rng.uniform(0, 1, (2, 2, 6, 6, 2)).astype("float32")
    cam = grad_cam_maps(tiny_maps_model(kernel, weights), clips)
    # score = sum_c w_c * mean_{t,h,w} A[t,h,w,c], so dS/dA[t,h,w,c] = w_c / (T*h*w): alpha is
    # that constant, and cam[t] = relu(sum_c w_c A[t,:,:,c]) / (T*h*w).
    maps = clips @ kernel
    expected = np.maximum((maps * weights).sum(-1) / (2 * 6 * 6), 0)
    np.testing.assert_allclose(cam, expected, rtol=1e-5, atol=1e-7)
    assert cam.shape == (2, 2, 6, 6) and cam.dtype == np.float32


def nonzero_depnet():
    keras.utils.set_random_seed(4)
    model = build_model("depnet", SMALL)
    clips = np.random.default_rng(1).uniform(0, 255, (3, 3, 32, 32, 3)).astype("float32")
    for sign in (1, -1):  # relu keeps one side: make sure some maps are not zero
        kernel = model.get_layer("bdi_ii").kernel
        kernel.assign(sign * np.abs(kernel.numpy()))
        cam = grad_cam(model, clips)
        if cam.max() > 0:
            return model, clips, cam
    raise AssertionError("no non-zero Grad-CAM map")


def test_features_path_equals_the_frames_path_on_a_1x1_llf():
    model, clips, cam = nonzero_depnet()
    frames = clips.reshape(-1, 32, 32, 3)
    features = model.feature_extractor().predict(frames, verbose=0).reshape(3, 3, -1)
    np.testing.assert_allclose(grad_cam_from_features(model, features), cam, rtol=1e-4, atol=1e-6)
    assert cam.shape == (3, 3, 1, 1)


def test_frame_importance_is_a_distribution_over_frames():
    model, clips, _ = nonzero_depnet()
    weights = frame_importance(model, clips)
    assert weights.shape == (3, 3) and (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1, rtol=1e-6)
    # The input's own max-pool branch: with identical frames it always picks the first,
    # while the conv branches' zero padding makes the edge frames differ.
    same = np.repeat(clips[:1, :1], 3, axis=1)
    tied = frame_importance(model, same)
    np.testing.assert_allclose(tied.sum(), 1, rtol=1e-6)
    assert tied[0, 0] > tied[0, 1]
    single = build_model("senet-single", SMALL)
    assert (frame_importance(single, clips[:, 0]) == 1).all()
    assert grad_cam(single, clips[:, 0]).shape == (3, 1, 1, 1)


def test_integrated_gradients_are_complete():
    keras.utils.set_random_seed(0)
    model = build_model("depnet", SMALL)
    clips = np.random.default_rng(0).uniform(0, 255, (1, 3, 32, 32, 3)).astype("float32")
    attributions = integrated_gradients(model, clips, steps=64)
    gap = model.predict(clips, verbose=0) - model.predict(mean_face(model, clips), verbose=0)
    assert attributions.shape == clips.shape
    assert attributions.sum() == pytest.approx(float(gap[0, 0]), rel=0.01)
    np.testing.assert_allclose(mean_face(model, clips)[0, 0, 0, 0], [131.0912, 103.8827, 91.4953])


def importance_by_definition(model, clips):
    """Frame importance derived another way: |dS/dR| summed per frame.

    A max-pool over time passes dS/dM[n, f] to the frame that won it and nothing
    to the others, so summing |dS/dR[t, n, f]| over a branch's positions and
    filters (R: the per-frame responses the FAM max-pools) gives the weight of
    frame t without any argmax, which `explain_clips` uses.
    """
    import tensorflow as tf

    to_features = keras.Model(model.input, model.get_layer("temporal_concat").output)
    features = tf.constant(to_features(clips, training=False))
    fam = model.get_layer("hlf")
    responses = [tf.constant(r) for r in fam.temporal_responses(features)]
    with tf.GradientTape() as tape:
        tape.watch(responses)
        pooled = [tf.reduce_max(r, axis=1, keepdims=True) for r in responses]
        average = tf.expand_dims(tf.reduce_mean(features, axis=1, keepdims=True), -1)
        x = fam.fuse_branches(tf.concat([*pooled, average], axis=-1))
        for name in ("hlf_flatten", "fc1", "fc1_relu", "bdi_ii"):  # dropout: identity
            x = model.get_layer(name)(x)
        total = tf.reduce_sum(x)
    gradients = tape.gradient(total, responses)
    weights = sum(np.abs(g.numpy()).sum(axis=(2, 3)) for g in gradients)
    return weights / weights.sum(axis=1, keepdims=True)


def test_one_pass_explanation_equals_the_functions():
    from depnet_tf.explain.attribution import explain_clips

    model, clips, cam = nonzero_depnet()
    scores, cams, importance = explain_clips(model, clips)
    np.testing.assert_allclose(scores, model.predict(clips, verbose=0)[:, 0], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(cams, cam, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(importance, importance_by_definition(model, clips), rtol=1e-4)
    np.testing.assert_array_equal(importance, frame_importance(model, clips))
    single = build_model("senet-single", SMALL)
    _, single_cams, ones = explain_clips(single, clips[:, 0])
    np.testing.assert_allclose(single_cams, grad_cam(single, clips[:, 0]), rtol=1e-5, atol=1e-7)
    assert (ones == 1).all()
