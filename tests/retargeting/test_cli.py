import json

import numpy as np

from motiongpt.cli import main


def test_retarget_command_writes_motion_report_and_animation(tmp_path, walking_clip):
    motion_path = tmp_path / "walk.npy"
    np.save(motion_path, walking_clip[:20].astype(np.float32))
    out = tmp_path / "out"
    code = main(["retarget", str(motion_path), "--robot", "g1", "--out", str(out), "--render", "frames",
                 "--render-fps", "5"])
    assert code == 0
    from retargeting import RobotMotion

    motion = RobotMotion.load(out / "robot_motion.npz")
    assert motion.robot == "g1" and motion.num_frames == 20
    report = json.loads((out / "report.json").read_text())
    assert report["limits"]["position_limit_violations"] == 0
    assert report["animation"]["backend"] == "frames" and (out / "robot.gif").stat().st_size > 0


def test_bad_input_exits_with_code_2(tmp_path, capsys):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((10, 21, 3)))
    assert main(["retarget", str(bad), "--out", str(tmp_path / "o"), "--render", "none"]) == 2
    assert "bad.npy: human motion must have shape" in capsys.readouterr().err
    assert main(["retarget", str(tmp_path / "none.npy"), "--out", str(tmp_path / "o")]) == 2


def test_eval_command_prints_json(tmp_path, walking_clip, capsys):
    data = tmp_path / "data" / "new_joints"
    data.mkdir(parents=True)
    np.save(data / "walk-a.npy", walking_clip[:30])
    mirrored = walking_clip[:30].copy()
    mirrored[..., 0] *= -1
    from motiongpt.skeleton import MIRROR_PERMUTATION

    np.save(data / "walk-a-M.npy", mirrored[:, list(MIRROR_PERMUTATION)])
    assert main(["eval", "retarget", "--robot", "g1", "--data", str(tmp_path / "data")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 2 and result["mirrored_clips"] == 1 and result["walking_clips"] == 2
    assert result["position_limit_violations"] == 0 and result["velocity_limit_violations"] == 0
    assert result["throughput_fps_one_core"] > 0
