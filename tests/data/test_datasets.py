import os
import time
from unittest import mock

import cv2
import keras
import numpy as np
import pandas as pd
import pytest

from depnet_tf import DepNetConfig, build_depnet
from depnet_tf.data import (
    DataError,
    Manifest,
    build_cache,
    cache_spec,
    clip_dataset,
    feature_dataset,
    verify_cache,
)

CONFIG = DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=8)


@pytest.fixture(scope="module")
def manifest(extracted, tmp_path_factory):
    out, _ = extracted
    path = tmp_path_factory.mktemp("manifest") / "manifest.csv"
    pd.DataFrame(
        [
            {
                "video_id": "301_1",
                "frames": str(out / "301_1_Freeform_video_aligned"),
                "label": 10,
                "split": "train",
                "subject": "301",
            },
            {
                "video_id": "302_2",
                "frames": str(out / "302_2_Northwind_video_aligned"),
                "label": 40,
                "split": "test",
                "subject": "302",
            },
        ]
    ).to_csv(path, index=False)
    return Manifest.read(path)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(5)
    return build_depnet(CONFIG)


def first_batch(dataset):
    return next(iter(dataset))


def test_clip_dataset_shapes_and_labels(manifest):
    dataset = clip_dataset(
        manifest,
        "train",
        num_frames=3,
        clips_per_video=4,
        training=True,
        image_size=32,
        batch_size=2,
    )
    frames, labels = first_batch(dataset)
    assert frames.shape == (2, 3, 32, 32, 3) and frames.dtype == "float32"
    assert labels.numpy().tolist() == [[10.0], [10.0]]
    assert 0 <= float(np.min(frames)) and float(np.max(frames)) <= 255
    assert sum(1 for _ in dataset) == 2


def test_training_clips_change_every_epoch_and_eval_clips_do_not(manifest):
    train = clip_dataset(
        manifest,
        "train",
        num_frames=3,
        clips_per_video=2,
        training=True,
        image_size=32,
        batch_size=2,
        seed=3,
    )
    epoch1, epoch2 = (np.concatenate([f for f, _ in train]) for _ in range(2))
    assert not np.array_equal(epoch1, epoch2)
    evaluation = clip_dataset(manifest, "train", num_frames=3, clips_per_video=2, image_size=32)
    pass1, pass2 = (np.concatenate([f for f, _ in evaluation]) for _ in range(2))
    np.testing.assert_array_equal(pass1, pass2)


def test_with_ids_and_short_videos_warn(manifest):
    with pytest.warns(UserWarning, match="fewer than 20 usable frames"):
        dataset = clip_dataset(
            manifest, "test", num_frames=20, clips_per_video=1, image_size=32, with_ids=True
        )
    frames, labels, ids = first_batch(dataset)
    assert frames.shape == (1, 20, 32, 32, 3) and ids.numpy().tolist() == [b"302_2"]


def test_mixed_gray_rgba_bmp_frames(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    cv2.imwrite(str(folder / "frame_det_00_000001.png"), np.full((40, 40), 100, np.uint8))
    cv2.imwrite(str(folder / "frame_det_00_000002.png"), np.full((40, 40, 4), 200, np.uint8))
    cv2.imwrite(str(folder / "frame_det_00_000003.bmp"), np.full((112, 112, 3), 50, np.uint8))
    pd.DataFrame(
        [{"video_id": "m", "frames": "mixed", "label": 5, "split": "s", "subject": "x"}]
    ).to_csv(tmp_path / "m.csv", index=False)
    frames, _ = first_batch(
        clip_dataset(Manifest.read(tmp_path / "m.csv"), "s", num_frames=3, image_size=32)
    )
    means = frames.numpy()[0].mean(axis=(1, 2, 3))
    np.testing.assert_allclose(means, [100, 200, 50], atol=1)


def test_model_fits_on_the_clip_dataset(manifest, model):
    dataset = clip_dataset(
        manifest,
        "train",
        num_frames=3,
        clips_per_video=2,
        training=True,
        image_size=32,
        batch_size=2,
    )
    model.compile(optimizer=keras.optimizers.SGD(1e-4), loss="mse")
    history = model.fit(dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_cache_equals_the_full_model_within_float16(manifest, model, tmp_path):
    done, failures = build_cache(model, manifest, tmp_path / "cache", progress=False)
    assert sorted(done) == ["301_1", "302_2"] and not failures
    head = model.head_model()
    for split in ("train", "test"):
        clips = clip_dataset(
            manifest, split, num_frames=3, clips_per_video=3, image_size=32, batch_size=3
        )
        features = feature_dataset(
            tmp_path / "cache",
            manifest,
            split,
            num_frames=3,
            clips_per_video=3,
            batch_size=3,
            spec=cache_spec(model),
        )
        x, _ = first_batch(features)
        assert x.shape == (3, 3, 256)
        full = model.predict(clips, verbose=0)
        cached = head.predict(features, verbose=0)
        np.testing.assert_allclose(cached, full, rtol=2e-2, atol=2e-2 * np.abs(full).max())


def test_cache_is_resumable_and_refuses_other_settings(manifest, model, tmp_path):
    cache = tmp_path / "cache"
    build_cache(model, manifest, cache, progress=False)
    stamp = os.path.getmtime(cache / "301_1.npz")
    time.sleep(0.05)
    with mock.patch("numpy.load", side_effect=AssertionError("read whole")):
        build_cache(model, manifest, cache, progress=False)  # reads only the zip directories
    assert os.path.getmtime(cache / "301_1.npz") == stamp
    size = os.path.getsize(cache / "301_1.npz")
    with open(cache / "301_1.npz", "r+b") as file:
        file.truncate(size - 10)
    build_cache(model, manifest, cache, progress=False)
    assert os.path.getsize(cache / "301_1.npz") == size and verify_cache(cache, manifest) == []
    other = build_depnet(CONFIG.replace(channel_pool=16))
    with pytest.raises(
        DataError, match="built with other settings.*channel_pool: cache 8 vs model 16"
    ) as error:
        feature_dataset(cache, manifest, "train", 3, spec=cache_spec(other))
    assert "backbone_weights_sha256" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(DataError, match="built with other settings"):
        build_cache(other, manifest, cache, progress=False)


def test_missing_cache(manifest, tmp_path):
    with pytest.raises(DataError, match="no feature cache here"):
        feature_dataset(tmp_path, manifest, "train", 3)


def test_head_fits_on_cached_features_and_trains_the_full_model(manifest, model, tmp_path):
    build_cache(model, manifest, tmp_path / "cache", progress=False)
    dataset = feature_dataset(
        tmp_path / "cache", manifest, "train", 3, clips_per_video=4, training=True, batch_size=2
    )
    head = model.head_model()
    before = model.get_layer("fc1").kernel.numpy().copy()
    head.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    head.fit(dataset, epochs=2, verbose=0)
    assert not np.array_equal(before, model.get_layer("fc1").kernel.numpy())


def _manifest_with_a_broken_frame(tmp_path, broken_bytes):
    records = []
    for name in ("good", "bad"):
        folder = tmp_path / f"{name}_aligned"
        folder.mkdir()
        for i in range(1, 5):
            cv2.imwrite(
                str(folder / f"frame_det_00_{i:06d}.png"), np.full((40, 40, 3), 90, np.uint8)
            )
        records.append(
            {"video_id": name, "frames": str(folder), "label": 7, "split": "train", "subject": name}
        )
    broken = tmp_path / "bad_aligned" / "frame_det_00_000002.png"
    broken.write_bytes(broken_bytes)
    pd.DataFrame(records).to_csv(tmp_path / "m.csv", index=False)
    return Manifest.read(tmp_path / "m.csv"), broken


@pytest.mark.parametrize("broken_bytes", [b"", os.urandom(300)], ids=["zero-byte", "garbage"])
def test_an_unreadable_frame_is_named(tmp_path, broken_bytes):
    import tensorflow as tf

    from depnet_tf.data.frames import frame_error

    manifest, broken = _manifest_with_a_broken_frame(tmp_path, broken_bytes)
    clips = clip_dataset(
        manifest, "train", num_frames=3, clips_per_video=4, image_size=32, batch_size=8
    )
    with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        list(clips)
    error = frame_error(raised.value)
    assert (
        isinstance(error, DataError)
        and str(error)
        == f"{broken}: cannot decode this face image (not a PNG, JPEG, BMP or GIF file)"
    )


def test_cache_skips_a_video_with_an_unreadable_frame(tmp_path, model):
    manifest, broken = _manifest_with_a_broken_frame(tmp_path, os.urandom(300))
    done, failures = build_cache(model, manifest, tmp_path / "cache", progress=False)
    assert done == ["good"] and (tmp_path / "cache" / "good.npz").is_file()
    assert failures == [
        ("bad", f"bad: {broken}: cannot decode this face image (not a PNG, JPEG, BMP or GIF file)")
    ]
    assert not (tmp_path / "cache" / "bad.npz").exists()


def test_cache_names_a_truncated_frame(tmp_path, model):
    good = cv2.imencode(".png", np.random.default_rng(0).integers(0, 256, (40, 40, 3), np.uint8))[1]
    manifest, broken = _manifest_with_a_broken_frame(tmp_path, good.tobytes()[:60])
    done, failures = build_cache(model, manifest, tmp_path / "cache", progress=False)
    assert done == ["good"]
    assert failures == [
        ("bad", f"bad: {broken}: cannot decode this face image (Invalid PNG data, size 60)")
    ]
