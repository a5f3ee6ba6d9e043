"""`motiongpt eval retarget` aggregation: counts over clips, including which body pairs self-collide."""
from __future__ import annotations

import numpy as np

from retargeting.evaluation import _top_pairs, evaluate_robot


def test_evaluation_aggregates_clips_and_collision_pairs(tmp_path, walking_clip):
    folder = tmp_path / "new_joints"
    folder.mkdir()
    np.save(folder / "walk_a.npy", walking_clip[:40].astype(np.float32))
    np.save(folder / "walk_b-M.npy", walking_clip[40:].astype(np.float32))
    report = evaluate_robot("g1", tmp_path)
    assert report["clips"] == 2 and report["mirrored_clips"] == 1 and report["frames"] == 80
    assert report["walking_clips"] == 2
    assert report["position_limit_violations"] == 0 and report["velocity_limit_violations"] == 0
    assert all("self_collision_pairs" in row for row in report["per_clip"])
    assert isinstance(report["self_collision_pairs_top"], list)


def test_collision_pairs_are_summed_over_clips():
    rows = [{"self_collision_pairs": {"a|b": {"frames": 3, "max_depth_cm": 1.0}, "c|d": {"frames": 1, "max_depth_cm": 4.0}}},
            {"self_collision_pairs": {"a|b": {"frames": 2, "max_depth_cm": 2.5}}},
            {"self_collision_pairs": {}}]
    assert _top_pairs(rows) == [{"pair": "a|b", "frames": 5, "max_depth_cm": 2.5, "clips": 2},
                                {"pair": "c|d", "frames": 1, "max_depth_cm": 4.0, "clips": 1}]
    assert _top_pairs(rows, count=1)[0]["pair"] == "a|b"
