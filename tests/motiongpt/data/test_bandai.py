"""Bandai Namco BVH takes -> 22 SMPL joints at 20 fps: listing, joint map, frame, floor, facing, features."""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from motiongpt.data import bandai
from motiongpt.data.bvh import BvhError, forward_kinematics, read_bvh
from motiongpt.features import facing_directions, joints_to_features, process_joints, recover_from_ric
from motiongpt.skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS

J = JOINT_INDEX
FIXTURES = Path(__file__).parent / "fixtures" / "bandai"
BOW = FIXTURES / "dataset-1_bow_masculinity_001.bvh"
WALK = FIXTURES / "dataset-2_walk_active_013.bvh"
WAVE = FIXTURES / "dataset-2_wave-right-hand_active_023.bvh"
ALL = (BOW, WALK, WAVE)


@pytest.fixture(scope="module")
def converted() -> dict[str, np.ndarray]:
    return {path.name: bandai.take_joints(path) for path in ALL}


def _fake_repository(root: Path) -> Path:
    for path in ALL:
        number = path.name[len("dataset-")]
        data = root / "dataset" / f"Bandai-Namco-Research-Motiondataset-{number}" / "data"
        data.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, data / path.name)
        (data / path.with_suffix(".json").name).write_text("{}")
    return root


def test_take_names():
    take = bandai.BandaiTake.from_path(WAVE)
    assert (take.dataset, take.content, take.style, take.take) == (2, "wave-right-hand", "active", 23)
    take = bandai.BandaiTake.from_path("x/dataset-1_walk-back_not-confident_001.bvh")
    assert (take.dataset, take.content, take.style, take.take, take.name) == (
        1, "walk-back", "not-confident", 1, "dataset-1_walk-back_not-confident_001")
    for bad in ("dataset-3_walk_normal_001.bvh", "walk_normal_001.bvh", "dataset-1_walk_normal.bvh"):
        with pytest.raises(bandai.BandaiError, match="not a Bandai Namco take name"):
            bandai.BandaiTake.from_path(bad)


def test_list_takes_accepts_repository_dataset_and_one_folder(tmp_path):
    root = _fake_repository(tmp_path)
    expected = ["dataset-1_bow_masculinity_001", "dataset-2_walk_active_013", "dataset-2_wave-right-hand_active_023"]
    assert [t.name for t in bandai.list_takes(root)] == expected
    assert [t.name for t in bandai.list_takes(root / "dataset")] == expected
    assert [t.name for t in bandai.list_takes(root / "dataset" / "Bandai-Namco-Research-Motiondataset-2")] == expected[1:]
    folder1 = root / "dataset" / "Bandai-Namco-Research-Motiondataset-1" / "data"
    (folder1 / "dataset-2_run_normal_001.bvh").write_text("")
    with pytest.raises(bandai.BandaiError, match="a dataset-2 file in folder"):
        bandai.list_takes(root)
    (folder1 / "dataset-2_run_normal_001.bvh").rename(folder1 / "odd name.bvh")
    with pytest.raises(bandai.BandaiError, match="odd name.bvh: not a Bandai Namco take name"):
        bandai.list_takes(root)
    with pytest.raises(bandai.BandaiError, match="no Bandai-Namco-Research-Motiondataset-N folder"):
        bandai.list_takes(tmp_path / "dataset" / "Bandai-Namco-Research-Motiondataset-1" / "data")


def test_bandai_takes_reads_a_folder_or_its_tarball_and_refuses_one_without_takes(tmp_path):
    import tarfile

    root = _fake_repository(tmp_path / "repo")
    with tarfile.open(tmp_path / "repo.tar.xz", "w:xz") as archive:
        archive.add(root / "dataset", arcname="dataset")
    for source in (root, tmp_path / "repo.tar.xz"):
        with bandai.bandai_takes(source) as takes:
            assert [t.name for t in takes] == [t.name for t in bandai.list_takes(root)]
            assert all(t.path.is_file() for t in takes)  # a tarball's stay unpacked while in use
    empty = tmp_path / "empty" / "Bandai-Namco-Research-Motiondataset-1" / "data"
    empty.mkdir(parents=True)
    with pytest.raises(bandai.BandaiError, match="no Bandai Namco take found"):
        with bandai.bandai_takes(tmp_path / "empty"):
            pass


def test_shape_and_frame_count(converted):
    for path in ALL:
        frames_30 = read_bvh(path).frames
        joints = converted[path.name]
        # T_20 = floor((T_30 - 1) * 20 / 30) + 1
        assert joints.shape == ((frames_30 - 1) * 2 // 3 + 1, 22, 3)
        assert np.all(np.isfinite(joints))
    assert converted[BOW.name].shape[0] == 47  # 70 frames at 30 fps
    assert bandai.take_joints(BOW, fps=30.0).shape[0] == 70


def test_bone_lengths_are_human_and_nearly_constant(converted):
    for joints in converted.values():
        lengths = np.linalg.norm(joints[:, 1:] - joints[:, list(PARENTS[1:])], axis=-1)
        assert lengths.min() > 0.03 and lengths.max() < 0.5
        assert np.all(lengths.max(axis=0) - lengths.min(axis=0) < 0.02)  # linear time interpolation only
        mean = dict(zip(JOINT_NAMES[1:], lengths.mean(axis=0)))
        assert mean["left_knee"] == pytest.approx(0.391, abs=2e-3)  # thigh: UpperLeg -> LowerLeg, 39.08 cm
        assert mean["right_ankle"] == pytest.approx(0.410, abs=2e-3)  # shin 40.99 cm
        assert 0.08 < mean["head"] < 0.13  # SMPL head ~0.10 above the neck


def test_standing_height_floor_and_feet(converted):
    bow = converted[BOW.name]
    assert 0.85 < bow[0, J["pelvis"], 1] < 1.0
    assert 1.3 < bow[0, J["head"], 1] < 1.7
    feet = [J[n] for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    for joints in converted.values():
        assert joints[:, feet, 1].min() == pytest.approx(0.0, abs=1e-9)
        assert joints[:, :, 1].min() > -0.02
    # standing bow: both toe bases on the floor at the start
    assert np.all(bow[0, [J["left_foot"], J["right_foot"]], 1] < 0.02)
    # walk: a foot in contact (on the floor, nearly still) in the first frames
    walk = converted[WALK.name]
    low = walk[:5, [J["left_foot"], J["right_foot"]], 1].min(axis=1)
    assert np.all(low < 0.03)


def test_facing_plus_z_left_at_plus_x_and_walk_forward(converted):
    for joints in converted.values():
        np.testing.assert_allclose(facing_directions(joints)[0], [0, 0, 1], atol=1e-9)
        np.testing.assert_allclose(joints[0, J["pelvis"], [0, 2]], [0, 0], atol=1e-12)
        assert joints[0, J["left_wrist"], 0] > 0.1 and joints[0, J["left_wrist"], 0] > joints[0, J["right_wrist"], 0]
        assert joints[0, J["left_shoulder"], 0] > 0.05 > -0.05 > joints[0, J["right_shoulder"], 0]
        assert joints[0, J["left_hip"], 0] > joints[0, J["right_hip"], 0]
        # the toes point forward (on average over the take)
        for side in ("left", "right"):
            assert np.mean(joints[:, J[f"{side}_foot"], 2] - joints[:, J[f"{side}_ankle"], 2]) > 0.05
    walk = converted[WALK.name]
    travel = walk[-1, J["pelvis"]] - walk[0, J["pelvis"]]
    assert travel[2] > 3.0 and abs(travel[0]) < 0.3 * travel[2]


def test_wave_right_hand_raises_the_right_wrist(converted):
    wave = converted[WAVE.name]
    above = wave[:, J["right_wrist"], 1] - wave[:, J["head"], 1]
    assert above.max() > 0.1
    assert np.all(wave[:, J["left_wrist"], 1] < wave[:, J["head"], 1])
    bow = converted[BOW.name]
    assert np.all(bow[:, [J["left_wrist"], J["right_wrist"]], 1] < bow[:, [J["head"]], 1])


def test_matches_the_raw_file_converted_by_hand(converted):
    bvh = read_bvh(WAVE)
    raw, _ = forward_kinematics(bvh)
    raw = raw * 0.01
    face = [bvh.index(n) for n in ("UpperLeg_R", "UpperLeg_L", "UpperArm_R", "UpperArm_L")]
    across = raw[0, face[0]] - raw[0, face[1]] + raw[0, face[2]] - raw[0, face[3]]
    yaw = math.atan2(across[2], -across[0])  # forward = up x across = (across_z, 0, -across_x)
    c, s = math.cos(yaw), math.sin(yaw)
    turn = np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])  # rotation about y by -yaw

    def by_hand(name: str, frame_30: int) -> np.ndarray:
        p = turn @ raw[frame_30, bvh.index(name)]
        origin = turn @ raw[0, bvh.index("Hips")]
        return p - np.array([origin[0], 0.0, origin[2]])

    joints = converted[WAVE.name]
    floor = by_hand("Hips", 0)[1] - joints[0, J["pelvis"], 1]
    for frame_20 in (0, 2, 40, 100):  # frame k at 20 fps = frame 1.5 k at 30 fps (exact for even k)
        for smpl, name in (("right_wrist", "Hand_R"), ("left_elbow", "LowerArm_L"), ("right_foot", "Toes_R"),
                           ("pelvis", "Hips"), ("neck", "Neck")):
            expected = by_hand(name, frame_20 * 3 // 2) - np.array([0.0, floor, 0.0])
            np.testing.assert_allclose(joints[frame_20, J[smpl]], expected, atol=1e-9)
    # the minimum foot height is the floor
    feet = [bvh.index(n) for n in ("Foot_L", "Foot_R", "Toes_L", "Toes_R")]
    assert floor == pytest.approx(raw[::3, feet, 1].min(), abs=2e-3)


def test_synthesised_spine_and_head(converted):
    joints = converted[BOW.name]
    pelvis, neck = joints[:, J["pelvis"]], joints[:, J["neck"]]
    heights = [joints[:, J[n], 1] for n in ("pelvis", "spine1", "spine2", "spine3", "neck", "head")]
    assert all(np.all(a < b) for a, b in zip(heights[:-1], heights[1:]))
    assert set(bandai.SYNTHESIS) == {"spine1", "spine2", "spine3", "head"}
    assert bandai.SPINE_FRACTIONS["spine1"] < bandai.SPINE_FRACTIONS["spine2"] < bandai.SPINE_FRACTIONS["spine3"]
    assert np.all(np.linalg.norm(joints[:, J["spine2"]] - pelvis, axis=-1) < np.linalg.norm(neck - pelvis, axis=-1))


def test_features_and_recovery(converted):
    for joints in converted.values():
        features = joints_to_features(joints)
        assert features.shape == (len(joints) - 1, 263) and np.all(np.isfinite(features))
        recovered = recover_from_ric(features)
        assert np.abs(recovered - process_joints(joints)[:-1]).max() < 1e-4


def test_generic_joint_map(tmp_path):
    # the same take with renamed joints converts identically through a YAML joint map
    renames = {"Hips": "pelvis_bone", "Hand_R": "RightHand", "Head": "HeadTop", "Spine": "Spine1"}
    text = WALK.read_text()
    for old, new in renames.items():
        text = text.replace(f"JOINT {old}\n", f"JOINT {new}\n")
    renamed = tmp_path / "renamed.bvh"
    renamed.write_text(text)
    lines = []
    for key, value in bandai.BANDAI_JOINT_MAP.items():
        if key == "head":
            lines.append(f"head: {{joint: {renames['Head']}, offset: [4, 0, 0]}}")
        elif key == "spine_chain":
            lines.append(f"spine_chain: [{renames['Spine']}, Chest]")
        else:
            lines.append(f"{key}: {renames.get(value, value)}")
    map_path = tmp_path / "map.yaml"
    map_path.write_text("\n".join(lines) + "\n")
    joint_map = bandai.load_joint_map(map_path)
    bvh = read_bvh(renamed)
    assert not bandai.is_bandai_skeleton(bvh)
    np.testing.assert_allclose(bandai.bvh_to_joints(bvh, joint_map), bandai.take_joints(WALK), atol=1e-12)
    with pytest.raises(bandai.BandaiError, match="not the Bandai Namco skeleton"):
        bandai.take_joints(renamed)
    # optional joints left out: collars synthesised, the rest still works
    reduced = {k: v for k, v in joint_map.items() if k not in ("left_collar", "right_collar")}
    joints = bandai.bvh_to_joints(bvh, reduced)
    assert joints.shape == (120, 22, 3)
    with pytest.raises(BvhError, match="no BVH joint given for head"):
        bandai.validate_joint_map({k: v for k, v in joint_map.items() if k != "head"})
    with pytest.raises(BvhError, match="'hand' is not an SMPL joint name"):
        bandai.validate_joint_map({**joint_map, "hand": "Hand_R"})
    with pytest.raises(BvhError, match="no joint 'Nope'"):
        bandai.bvh_to_joints(bvh, {**joint_map, "neck": "Nope"})


def test_cli_import_bvh(tmp_path, capsys):
    from motiongpt.cli import main
    from motiongpt.data.humanml3d import load_split

    out = tmp_path / "data"
    code = main(["data", "import-bvh", str(WALK), str(WAVE), "--out", str(out),
                 "--caption", "a person walks forward", "--caption", "zorblat quux"])
    assert code == 0
    for name in (WALK.stem, WAVE.stem):
        joints = np.load(out / "new_joints" / f"{name}.npy")
        features = np.load(out / "new_joint_vecs" / f"{name}.npy")
        assert features.shape == (len(joints), 263) and joints.shape[1:] == (22, 3)
        lines = (out / "texts" / f"{name}.txt").read_text().splitlines()
        assert lines[0].startswith("a person walks forward#a/DET person/NOUN") and lines[0].endswith("#0.0#0.0")
        assert lines[1].startswith("zorblat quux#") and lines[1].endswith("#0.0#0.0")  # tokens may be empty
    np.testing.assert_allclose(np.load(out / "new_joints" / f"{WALK.stem}.npy"),
                               process_joints(bandai.take_joints(WALK))[:-1], atol=1e-4)
    assert (out / "train.txt").read_text().split() == [WALK.stem, WAVE.stem]
    # importing again does not duplicate names; a non-Bandai skeleton needs a joint map
    assert main(["data", "import-bvh", str(WALK), "--out", str(out), "--caption", "walk"]) == 0
    assert (out / "train.txt").read_text().split() == [WALK.stem, WAVE.stem]
    records = load_split(out, "train")
    assert len(records) == 2
    renamed = tmp_path / "renamed.bvh"
    renamed.write_text(WALK.read_text().replace("JOINT Head\n", "JOINT HeadTop\n"))
    capsys.readouterr()
    assert main(["data", "import-bvh", str(renamed), "--out", str(out), "--caption", "walk"]) != 0
    assert "--joint-map" in capsys.readouterr().err
