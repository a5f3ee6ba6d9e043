"""Motion packs: the DeepMimic clip files and the Bandai takes' joints in one file, and the same embedded dataset
built from it as from the sources (three fixture takes, see conftest.py)."""
from __future__ import annotations

import filecmp
import zipfile

import numpy as np
import pytest

from motiongpt.cli import main
from motiongpt.data import deepmimic
from motiongpt.data.bandai import list_takes, take_joints
from motiongpt.data.embedded import build_embedded
from motiongpt.data.motion_pack import STEPS_PER_METRE, MotionPackError, read_pack, write_pack


@pytest.fixture(scope="module")
def packed(bandai_built, tmp_path_factory):
    """(pack path, MotionPack, dataset built from the sources, dataset built from the pack)."""
    source_out, _, tree = bandai_built
    path = tmp_path_factory.mktemp("pack") / "motions.npz"
    pack = write_pack(path, bandai=tree)
    out = tmp_path_factory.mktemp("from-pack") / "out"
    build_embedded(out, pack=path)
    return path, pack, source_out, out


def test_the_pack_holds_the_clip_files_as_they_are_and_each_takes_joints_within_the_rounding(packed, bandai_built):
    _, pack, _, _ = packed
    assert set(pack.deepmimic_files) == set(deepmimic.CLIP_FILES)
    for name, text in pack.deepmimic_files.items():
        assert text == deepmimic.clip_path(name).read_text()
    takes = list_takes(bandai_built[2])
    assert pack.bandai_takes == tuple(take.path.name for take in takes)
    for take, joints in zip(takes, pack.bandai_joints):
        truth = take_joints(take)
        assert joints.shape == truth.shape and joints.dtype == np.float32
        # half a step of rounding, plus float32's resolution of the first frame's metres
        assert np.abs(joints - truth).max() <= 0.5 / STEPS_PER_METRE + 1e-6
    assert len(pack.licences) == 2 and "CC BY-NC 4.0" in pack.licences[1] and "pybullet" in pack.licences[0]


def test_a_dataset_built_from_the_pack_is_the_dataset_built_from_the_sources(packed):
    _, _, source, out = packed
    for name in ("train.txt", "val.txt", "test.txt", "all.txt", "actions.json", "styles.json", "LICENSE.md"):
        assert filecmp.cmp(source / name, out / name, shallow=False), name
    names = (source / "all.txt").read_text().split()
    assert any(n.startswith("bn") for n in names) and any(not n.startswith("bn") for n in names)
    for name in names:
        assert filecmp.cmp(source / "texts" / f"{name}.txt", out / "texts" / f"{name}.txt", shallow=False), name
        a, b = (np.load(root / "new_joint_vecs" / f"{name}.npy") for root in (source, out))
        assert a.shape == b.shape, name
        if not name.startswith("bn"):  # the DeepMimic clips are packed as they are: the same bytes
            assert np.array_equal(a, b), name
            continue
        # root-relative joint positions (features 4:67, metres) within a few rounding steps; foot contacts agree
        assert np.abs(a[:, 4:67] - b[:, 4:67]).max() < 20 / STEPS_PER_METRE, name
        assert (a[:, -4:] == b[:, -4:]).mean() > 0.98, name
    for stats in ("Mean.npy", "Std.npy"):
        np.testing.assert_allclose(np.load(out / stats), np.load(source / stats), rtol=1e-3, atol=1e-4)


def test_bad_packs_and_arguments_are_refused_with_the_reason(packed, tmp_path):
    path, _, _, _ = packed
    with pytest.raises(MotionPackError, match="no motion pack here"):
        read_pack(tmp_path / "missing.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"not a zip file")
    with pytest.raises(MotionPackError, match="unreadable motion pack"):
        read_pack(tmp_path / "corrupt.npz")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tmp_path / "short.npz", "w") as short:
        for item in source.infolist():  # one take's frame count made longer than its steps
            data = source.read(item)
            if item.filename == "bandai_frames.npy":
                frames = np.load(source.open(item))
                frames[0] += 1
                with short.open(item.filename, "w") as handle:
                    np.save(handle, frames)
            else:
                short.writestr(item, data)
    with pytest.raises(MotionPackError, match="inconsistent motion pack"):
        read_pack(tmp_path / "short.npz")
    with pytest.raises(ValueError, match="not both"):
        build_embedded(tmp_path / "out", bandai=tmp_path, pack=path)
    assert not (tmp_path / "out").exists()


def test_cli_packs_and_builds_from_the_pack(bandai_built, tmp_path, capsys):
    assert main(["data", "pack-motions", "--out", str(tmp_path / "m.npz"), "--bandai", str(bandai_built[2])]) == 0
    printed = capsys.readouterr().out
    assert "20 DeepMimic clip files, 3 Bandai Namco takes" in printed and "CC BY-NC 4.0" in printed
    assert main(["data", "build-embedded", "--out", str(tmp_path / "out"), "--pack", str(tmp_path / "m.npz")]) == 0
    assert "sources: bandai, deepmimic; clips (takes): 23" in capsys.readouterr().out
