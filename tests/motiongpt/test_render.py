"""Stick-figure rendering: a valid animated GIF with one frame per motion frame; bad input is rejected."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from motiongpt.cli import main
from motiongpt.data import deepmimic
from motiongpt.features import joints_to_features
from motiongpt.render import RenderError, RenderOptions, load_motion, render_file, render_motion
from motiongpt.validation import MotionError


@pytest.fixture(scope="module")
def walk():
    return deepmimic.load_joints("walk")[:24]


def test_render_writes_an_animated_gif(walk, tmp_path):
    out = render_motion(walk, tmp_path / "walk.gif", RenderOptions(size_px=160, title="walk"))
    with Image.open(out) as image:
        assert image.format == "GIF"
        assert image.is_animated and image.n_frames == len(walk)
        assert image.size == (160, 160)
        assert image.info["duration"] == 50  # 20 fps
        image.seek(5)
        frame = np.asarray(image.convert("RGB"))
    assert (frame < 200).any() and (frame > 250).any()  # something drawn on a white background


def test_frames_change_with_the_motion(walk, tmp_path):
    out = render_motion(walk, tmp_path / "walk.gif", RenderOptions(size_px=120))
    with Image.open(out) as image:
        first = np.asarray(image.convert("RGB")).astype(int)
        image.seek(len(walk) - 1)
        last = np.asarray(image.convert("RGB")).astype(int)
    assert np.abs(first - last).sum() > 0


def test_feature_files_are_decoded(walk, tmp_path):
    path = tmp_path / "walk_features.npy"
    np.save(path, joints_to_features(walk).astype(np.float32))
    joints = load_motion(path)
    assert joints.shape == (len(walk) - 1, 22, 3)
    out = render_file(path, tmp_path / "features.gif", RenderOptions(size_px=96))
    with Image.open(out) as image:
        assert image.n_frames == len(walk) - 1


def test_cli_render(walk, tmp_path, capsys):
    path = tmp_path / "walk.npy"
    np.save(path, walk)
    assert main(["render", str(path), str(tmp_path / "cli.gif"), "--size", "96", "--every", "2"]) == 0
    assert "12 frames" in capsys.readouterr().out
    with Image.open(tmp_path / "cli.gif") as image:
        assert image.n_frames == 12


@pytest.mark.parametrize("array, message", [
    (np.full((10, 22, 3), np.nan), "NaN"),
    (np.zeros((10, 21, 3)), r"expected joints \(T, 22, 3\) or features \(T, 263\)"),
    (np.zeros((1, 22, 3)), "at least 2 frames"),
])
def test_bad_motion_files_are_rejected_with_the_file_name(tmp_path, array, message, capsys):
    path = tmp_path / "bad_motion.npy"
    np.save(path, array)
    with pytest.raises(MotionError, match=rf"bad_motion\.npy.*{message}"):
        load_motion(path)
    assert main(["render", str(path), str(tmp_path / "x.gif")]) == 2
    error = capsys.readouterr().err
    assert "bad_motion.npy" in error and error.count("\n") == 1


def test_missing_file_and_bad_output(walk, tmp_path):
    with pytest.raises(MotionError, match=r"missing\.npy: file not found"):
        load_motion(tmp_path / "missing.npy")
    with pytest.raises(RenderError, match=r"\.png"):
        render_motion(walk, tmp_path / "walk.png")
