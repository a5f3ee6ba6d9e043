"""How an in-between candidate is judged against the given motions (`join_mismatch`), and that the kept
candidate is the best-fitting one."""
import numpy as np
import pytest

from motiongpt.lm import api
from motiongpt.lm.api import join_mismatch
from motiongpt.skeleton import FPS


def moving(frames=40, speed=1.0):
    """22 joints moving along +z at ``speed`` m/s."""
    t = np.arange(frames)[:, None, None] / FPS
    rest = np.linspace(0.0, 1.5, 22)[:, None] * np.array([0.0, 1.0, 0.0])
    return rest[None] + np.array([0.0, 0.0, speed]) * t


def test_a_decoded_motion_equal_to_the_given_one_fits_exactly():
    motion = moving()
    assert join_mismatch(motion, motion[:12], motion[28:], 12, 28) == pytest.approx(0.0, abs=1e-12)


def test_positions_and_velocities_at_both_joins_count():
    truth = moving()
    shifted = truth + np.array([0.0, 0.0, 0.02])  # 2 cm off everywhere, moving right
    assert join_mismatch(shifted, truth[:12], truth[28:], 12, 28) == pytest.approx(0.04)
    # at the right place at both joins, but each join's step 1/FPS m longer: 1 m/s faster there
    fast = truth.copy()
    fast[10] -= np.array([0.0, 0.0, 1.0 / FPS])   # the step 10 -> 11 (before's last) is longer
    fast[29] += np.array([0.0, 0.0, 1.0 / FPS])   # the step 28 -> 29 (after's first) is longer
    mismatch = join_mismatch(fast, truth[:12], truth[28:], 12, 28)
    assert mismatch == pytest.approx(2 * 1.0)  # 1 m/s too fast at each join, positions exact


def test_the_kept_candidate_is_the_one_that_fits_best(tiny_motiongpt, monkeypatch):
    """With candidates, inbetween keeps the decoded gap whose join_mismatch is smallest."""
    seen = []
    original = api.join_mismatch

    def recording(decoded, before, after, start, stop):
        value = original(decoded, before, after, start, stop)
        seen.append((value, decoded[start:stop].copy(), before[start - 1] - decoded[start - 1],
                     after[0] - decoded[stop]))
        return value

    monkeypatch.setattr(api, "join_mismatch", recording)
    from tests.motiongpt.lm.test_lm_api import walking_joints

    before, after = walking_joints(41), walking_joints(33)
    result = tiny_motiongpt.inbetween(before, after, seconds=1.0, seed=4, candidates=5)
    assert len(seen) == 5
    _, decoded_gap, offset_start, offset_end = min(seen, key=lambda row: row[0])
    start, stop = result.segment
    weights = (np.arange(1, stop - start + 1) / (stop - start + 1))[:, None, None]
    expected = decoded_gap + (1 - weights) * offset_start + weights * offset_end
    np.testing.assert_allclose(result.joints[start:stop], expected, atol=1e-5)
