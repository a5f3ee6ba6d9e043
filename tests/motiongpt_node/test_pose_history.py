import numpy as np
import pytest

from motiongpt_node.pose_history import PoseHistory, PoseHistoryError


def frame(value):
    return np.full((22, 3), float(value))


def test_stream_is_resampled_to_20_fps_by_interpolation():
    history = PoseHistory(window_s=10.0)
    for k in range(31):  # 30 Hz for 1 s, value = time
        history.add(100.0 + k / 30.0, frame(k / 30.0))
    joints = history.recent(seconds=0.5)
    assert joints.shape == (11, 22, 3)
    np.testing.assert_allclose(joints[:, 0, 0], 1.0 - (10 - np.arange(11)) / 20.0, atol=1e-9)


def test_window_and_too_short_stream():
    history = PoseHistory(window_s=2.0)
    with pytest.raises(PoseHistoryError, match="need at least 1.0 s"):
        history.recent(1.0)
    for k in range(100):
        history.add(k * 0.1, frame(k))
    assert history.span_s() == pytest.approx(2.0)
    assert history.recent(10.0).shape[0] == 41


def test_out_of_order_dropped_and_clock_jump_back_restarts():
    history = PoseHistory(window_s=5.0)
    for k in range(20):
        history.add(10 + k * 0.1, frame(k))
    history.add(11.5, frame(-1))  # late sample (less than 1 s old): ignored
    assert history.recent(1.5).min() >= 0
    history.add(0.0, frame(7))  # the source restarted
    assert history.span_s() == 0.0
    with pytest.raises(PoseHistoryError):
        history.add(1.0, np.zeros((21, 3)))


def test_history_is_bounded_by_count_under_crafted_stamps():
    """Stamps 1 ns apart stay inside the time window forever: the count bound must hold anyway."""
    history = PoseHistory(window_s=10.0)
    assert history.max_samples == 1001  # 10 s at MAX_POSE_RATE_HZ = 100, plus one
    for k in range(50_000):
        history.add(100.0 + k * 1e-9, frame(k))
    assert len(history) == 1  # every later sample was closer than 1/100 s to the kept one
    for k in range(5_000):  # 1 kHz for 5 s: thinned to 100 Hz
        history.add(200.0 + k * 1e-3, frame(k))
    assert len(history) <= 501
    assert history.recent(4.0).shape == (81, 22, 3)


def test_count_bound_holds_whatever_the_rate():
    history = PoseHistory(window_s=2.0, max_rate_hz=50.0)
    assert history.max_samples == 101
    for k in range(10_000):
        history.add(k * 0.02, frame(k))  # exactly the maximum rate
        assert len(history) <= history.max_samples
    assert history.span_s() <= 2.0 + 1e-9
