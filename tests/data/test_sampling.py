import numpy as np

from depnet_tf.data.sampling import clip_plan, eval_clips, train_clip


def test_train_clips_are_sorted_distinct_and_fresh():
    rng = np.random.default_rng(0)
    clips = [train_clip(100, 5, rng) for _ in range(20)]
    for clip in clips:
        assert list(clip) == sorted(clip) and len(set(clip)) == 5
    assert len({tuple(c) for c in clips}) > 15


def test_short_videos_are_sampled_with_replacement():
    clip = train_clip(3, 5, np.random.default_rng(1))
    assert len(clip) == 5 and set(clip) <= {0, 1, 2} and list(clip) == sorted(clip)


def test_eval_clips_are_deterministic_and_evenly_spread():
    clips = eval_clips(100, 5, 2)
    assert clips.tolist() == [[5, 25, 45, 65, 85], [15, 35, 55, 75, 95]]
    np.testing.assert_array_equal(eval_clips(100, 5, 2), clips)
    assert eval_clips(3, 5, 1).tolist() == [[0, 0, 1, 2, 2]]


def test_plan_order():
    plan = clip_plan([10, 20], 5, 2, training=False)
    assert [video for video, _ in plan] == [0, 0, 1, 1]
    plan = clip_plan([10, 20, 30], 5, 4, training=True, rng=np.random.default_rng(0))
    assert sorted(video for video, _ in plan) == [0] * 4 + [1] * 4 + [2] * 4
