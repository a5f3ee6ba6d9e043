"""`motiongpt generate --bvh` writes motion.bvh beside joints.npy, readable back to the same joints."""
import numpy as np

from motiongpt.cli import main
from motiongpt.data.bvh import read_bvh, smpl_joints_from_written


def test_generate_bvh(tiny_motiongpt, tmp_path):
    tiny_motiongpt.save_pretrained(tmp_path / "model")
    out = tmp_path / "out"
    code = main(["generate", "walk forward", "--model", str(tmp_path / "model"), "--out", str(out),
                 "--seconds", "1.2", "--seed", "3", "--no-render", "--bvh"])
    assert code == 0
    joints = np.load(out / "joints.npy")
    bvh = read_bvh(out / "motion.bvh")
    assert bvh.frames == len(joints) and bvh.fps == 20.0
    written = smpl_joints_from_written(bvh)
    # rotations only, bone lengths fixed to their means: the pelvis is exact, the rest follows the bones
    np.testing.assert_allclose(written[:, 0], joints[:, 0], atol=1e-5)
    bones = joints - joints[:, [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]]
    directions = bones[:, 1:] / np.linalg.norm(bones[:, 1:], axis=-1, keepdims=True)
    written_bones = written - written[:, [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]]
    written_dirs = written_bones[:, 1:] / np.linalg.norm(written_bones[:, 1:], axis=-1, keepdims=True)
    # single-child joints reproduce bone directions exactly; Kabsch joints (pelvis, spine3) approximately
    assert np.mean(np.sum(directions * written_dirs, axis=-1)) > 0.98
