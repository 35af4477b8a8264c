import math

import numpy as np
import pytest

from depnet_tf.evaluation import conformal


def test_quantile_is_the_ceil_rank_residual():
    residuals = np.array([5.0, -1.0, 3.0, -8.0, 2.0, 7.0, -4.0, 6.0, 0.5, 9.0])
    for alpha in (0.1, 0.2, 0.5):
        rank = math.ceil((len(residuals) + 1) * (1 - alpha))
        expected = np.sort(np.abs(residuals))[rank - 1] if rank <= len(residuals) else None
        assert conformal.conformal_quantile(residuals, alpha) == expected


def test_too_few_calibration_videos_give_no_bound():
    assert conformal.needed_calibration(0.1) == 9
    record = conformal.calibrate(np.arange(8.0), np.arange(8.0) + 1)
    assert record["q"] is None and record["n"] == 8
    assert conformal.interval([10.0], None) is None
    assert "unbounded" in conformal.describe(record) and "needs 9" in conformal.describe(record)
    assert "not calibrated" in conformal.describe(None)


def test_intervals_are_clipped_to_the_bdi_range():
    lower, upper = conformal.interval([2.0, 40.0, 62.0], 5.0)
    assert lower.tolist() == [0.0, 35.0, 57.0] and upper.tolist() == [7.0, 45.0, 63.0]


@pytest.mark.parametrize("alpha", [0.1, 0.2])
def test_coverage_on_exchangeable_residuals(alpha):
    rng = np.random.default_rng(int(alpha * 100))
    labels = rng.uniform(10, 50, 2000)
    predictions = labels + rng.standard_t(4, 2000) * 4  # heavy-tailed, exchangeable errors
    record = conformal.calibrate(labels[:1000], predictions[:1000], alpha)
    coverage = conformal.coverage(labels[1000:], predictions[1000:], record["q"])
    assert abs(coverage - (1 - alpha)) <= 0.03


def test_calibration_is_stored_beside_the_model(tmp_path):
    model = tmp_path / "m.keras"
    model.write_bytes(b"x")
    assert conformal.read_calibration(model) is None
    record = conformal.calibrate(np.arange(20.0), np.arange(20.0) + 2)
    path = conformal.write_calibration(model, record)
    assert path == f"{model}.calibration.json"
    assert conformal.read_calibration(model) == record
