"""Each evaluation convention against a hand computation on known predictions."""

import math

import pandas as pd
import pytest

from depnet_tf.evaluation import conventions


def tables():
    # Two sessions of two tasks each, and one video with no session or task.
    clips = pd.DataFrame(
        {
            "video_id": ["a_F", "a_F", "a_N", "a_N", "b_F", "b_F", "b_N", "b_N", "c", "c"],
            "label": [10, 10, 10, 10, 30, 30, 30, 30, 20, 20],
            "prediction": [12, 14, 8, 6, 31, 29, 20, 24, 20, 26],
        }
    )
    videos = pd.DataFrame(
        {
            "video_id": ["a_F", "a_N", "b_F", "b_N", "c"],
            "label": [10, 10, 30, 30, 20],
            "prediction": [13, 7, 30, 22, 23],  # the means of the clips above
            "session": ["a", "a", "b", "b", ""],
            "task": ["Freeform", "Northwind", "Freeform", "Northwind", ""],
        }
    )
    return videos, clips


def test_every_convention_by_hand():
    videos, clips = tables()
    result = conventions(videos, clips)
    # per video: errors 3, -3, 0, -8, 3
    assert result["per_video"]["n"] == 5
    assert result["per_video"]["rmse"] == pytest.approx(math.sqrt((9 + 9 + 0 + 64 + 9) / 5))
    assert result["per_video"]["mae"] == pytest.approx((3 + 3 + 0 + 8 + 3) / 5)
    # per task: Freeform errors 3, 0; Northwind -3, -8 (the video without a task is left out)
    assert result["per_task"]["Freeform"]["rmse"] == pytest.approx(math.sqrt(9 / 2))
    assert result["per_task"]["Northwind"]["mae"] == pytest.approx(5.5)
    # per session, tasks fused by averaging: a (13+7)/2 = 10 vs 10; b (30+22)/2 = 26 vs 30;
    # c stands alone: 23 vs 20.
    assert result["per_session"]["n"] == 3
    assert result["per_session"]["rmse"] == pytest.approx(math.sqrt((0 + 16 + 9) / 3))
    assert result["per_session"]["mae"] == pytest.approx((0 + 4 + 3) / 3)
    # per clip: errors 2 4 -2 -4 1 -1 -10 -6 0 6
    squares = [4, 16, 4, 16, 1, 1, 100, 36, 0, 36]
    assert result["per_clip"]["rmse"] == pytest.approx(math.sqrt(sum(squares) / 10))
    assert result["per_clip"]["mae"] == pytest.approx(36 / 10)
    for entry in (result["per_video"], result["per_session"], result["per_clip"]):
        assert entry["convention"]


def test_conventions_a_manifest_cannot_give_are_absent():
    videos, clips = tables()
    plain = videos.drop(columns=["session", "task"])
    result = conventions(plain, clips)
    assert set(result) == {"per_video", "per_clip"}
