"""BVH reader (hierarchy, motion, forward kinematics), errors, and the SMPL writer round trip."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motiongpt.data.bvh import BvhError, forward_kinematics, parse_bvh, read_bvh, smpl_joints_from_written, write_bvh
from motiongpt.skeleton import JOINT_NAMES

FIXTURES = Path(__file__).parent / "fixtures" / "bandai"
BOW = FIXTURES / "dataset-1_bow_masculinity_001.bvh"
WALK = FIXTURES / "dataset-2_walk_active_013.bvh"
WAVE = FIXTURES / "dataset-2_wave-right-hand_active_023.bvh"

SMALL = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT child
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 5 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.05
0 0 0 0 0 0 0 0 0
1 2 3 90 0 0 0 0 0
"""


def test_hierarchy_of_a_bandai_file():
    bvh = read_bvh(BOW)
    assert bvh.names[:6] == ["joint_Root", "Hips", "Spine", "Chest", "Neck", "Head"]
    assert len(bvh.joints) == 22  # joint_Root + 21 skeleton joints
    assert all(j.channels == ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
               for j in bvh.joints)
    assert bvh.frame_time == pytest.approx(1 / 30, abs=1e-6) and bvh.fps == 30.0
    assert bvh.motion.shape == (70, 22 * 6)
    assert bvh.joints[bvh.index("Spine")].parent == bvh.index("Hips")
    assert bvh.joints[bvh.index("Toes_L")].parent == bvh.index("Foot_L")
    np.testing.assert_allclose(bvh.joints[bvh.index("Spine")].offset, [15.7357, 0, 0])
    assert bvh.joints[bvh.index("Head")].end_site is not None


def test_small_file_and_rotation_order():
    bvh = parse_bvh(SMALL)
    assert bvh.names == ["root", "child"] and bvh.fps == 20.0
    positions, rotations = forward_kinematics(bvh)
    np.testing.assert_allclose(positions[0], [[0, 0, 0], [0, 10, 0]], atol=1e-12)
    # frame 1: root at (1,2,3), turned 90 degrees about z: the child bone (0,10,0) points to -x
    np.testing.assert_allclose(positions[1], [[1, 2, 3], [-9, 2, 3]], atol=1e-9)
    # intrinsic Z then X then Y, as written
    text = SMALL.replace("1 2 3 90 0 0 0 0 0", "0 0 0 90 90 0 0 0 0")
    positions, _ = forward_kinematics(parse_bvh(text))
    np.testing.assert_allclose(positions[1, 1], [0, 0, 10], atol=1e-9)  # Rz(90) Rx(90) (0,10,0) = (0,0,10)


@pytest.mark.parametrize("path", [BOW, WALK, WAVE])
def test_fk_bone_lengths_equal_offsets_and_stand_upright(path):
    bvh = read_bvh(path)
    positions, _ = forward_kinematics(bvh)
    hips = bvh.index("Hips")
    for j, joint in enumerate(bvh.joints):
        if joint.parent <= 0:  # the root and Hips (moved by its channels)
            continue
        lengths = np.linalg.norm(positions[:, j] - positions[:, joint.parent], axis=-1)
        assert lengths.max() - lengths.min() < 1e-2 * 1e-2, joint.name  # 1e-4 m, file in cm
        assert lengths.mean() == pytest.approx(np.linalg.norm(joint.offset), abs=1e-2), joint.name
    # upright: the head above the hips above the feet, on Y
    head, toes = positions[:, bvh.index("Head"), 1], positions[:, bvh.index("Toes_L"), 1]
    assert np.all(head > positions[:, hips, 1]) and np.all(positions[:, hips, 1] > toes)


def test_parse_speed_is_reasonable():
    import time

    text = WALK.read_text()
    started = time.perf_counter()
    for _ in range(10):
        forward_kinematics(parse_bvh(text))
    assert (time.perf_counter() - started) / 10 < 0.2


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("MOTION", "MOTON"), "no MOTION"),
    (lambda t: t.replace("Frames: 2", "Frames: 3"), "has 2 frame lines"),
    (lambda t: t.replace("1 2 3 90", "1 2 x 90"), ":20: not a number: 'x'"),
    (lambda t: t.replace("1 2 3 90 0 0 0 0 0", "1 2 3 90 0 0 0 0"), ":20: frame has 8 values"),
    (lambda t: t.replace("CHANNELS 3 Zrotation", "CHANNELS 4 Zrotation"), ":9: CHANNELS 4 lists 3"),
    (lambda t: t.replace("Zrotation Xrotation Yrotation\n    End", "Zrotation Xrotation Wrotation\n    End"), ":9: unknown"),
    (lambda t: t.replace("OFFSET 0 10 0", "OFFSET 0 10"), ":8: OFFSET needs three numbers"),
    (lambda t: t.replace("Frame Time: 0.05", "Frame Time: 0"), ":18: expected 'Frame Time"),
    (lambda t: t.replace("  }\n}\nMOTION", "  }\nMOTION"), "missing '}'"),
    (lambda t: t.replace("JOINT child", "BONE child"), ":6: unexpected 'BONE'"),
])
def test_malformed_files_raise_bvh_error_with_file_and_line(edit, message):
    with pytest.raises(BvhError) as error:
        parse_bvh(edit(SMALL), source="bad.bvh")
    assert str(error.value).startswith("bad.bvh") and message in str(error.value), str(error.value)
    assert isinstance(error.value, ValueError)


def test_missing_file(tmp_path):
    with pytest.raises(BvhError, match="cannot read"):
        read_bvh(tmp_path / "none.bvh")


def _joints(fps: float) -> np.ndarray:
    from motiongpt.data.bandai import take_joints

    return take_joints(WAVE, fps=fps)


def test_writer_round_trip_rotations_only(tmp_path):
    # at the source rate (no time interpolation) the bones are rigid up to the synthesised spine/head
    joints = _joints(30.0)
    path = write_bvh(tmp_path / "motion.bvh", joints, fps=30.0)
    bvh = read_bvh(path)
    assert sorted(bvh.names) == sorted(JOINT_NAMES) and bvh.fps == 30.0 and bvh.frames == len(joints)
    assert bvh.joints[0].channels[:3] == ("Xposition", "Yposition", "Zposition")
    assert all(j.channels == ("Zrotation", "Xrotation", "Yrotation") for j in bvh.joints[1:])
    assert np.abs(smpl_joints_from_written(bvh) - joints).max() < 1e-3


def test_writer_round_trip_with_translations(tmp_path):
    joints = _joints(20.0)  # bone lengths vary slightly (time interpolation): translations reproduce them
    bvh = read_bvh(write_bvh(tmp_path / "motion.bvh", joints, fps=20.0, translations=True))
    assert all(len(j.channels) == 6 for j in bvh.joints)
    assert np.abs(smpl_joints_from_written(bvh) - joints).max() < 1e-4


def test_writer_centimetres_and_bad_input(tmp_path):
    joints = _joints(30.0)[:5]
    bvh = read_bvh(write_bvh(tmp_path / "cm.bvh", joints, scale=100.0))
    assert np.abs(smpl_joints_from_written(bvh, scale=100.0) - joints).max() < 1e-3
    with pytest.raises(ValueError, match="shape"):
        write_bvh(tmp_path / "x.bvh", joints[:, :21])
    with pytest.raises(ValueError, match="NaN"):
        write_bvh(tmp_path / "x.bvh", np.full_like(joints, np.nan))
