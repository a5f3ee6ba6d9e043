"""The HumanML3D-layout loader on a small tree written here in the exact layout."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from motiongpt.data.humanml3d import (
    DatasetError,
    load_actions,
    load_normalizer,
    load_split,
    load_split_with_report,
    parse_text_file,
    read_split_names,
)
from motiongpt.skeleton import FEATURE_DIM


def features(frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(frames, FEATURE_DIM)).astype(np.float32)


def write_tree(root: Path, clips: dict[str, tuple[int | None, list[str] | None]], splits: dict[str, list[str]]) -> dict:
    """clips: name -> (frames or None for no .npy, text lines or None for no .txt)."""
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    arrays = {}
    for i, (name, (frames, lines)) in enumerate(clips.items()):
        if frames is not None:
            arrays[name] = features(frames, i)
            np.save(root / "new_joint_vecs" / f"{name}.npy", arrays[name])
        if lines is not None:
            (root / "texts" / f"{name}.txt").write_text("\n".join(lines) + "\n")
    for split, names in splits.items():
        (root / f"{split}.txt").write_text("\n".join(names) + "\n")
    np.save(root / "Mean.npy", np.full(FEATURE_DIM, 0.5, dtype=np.float32))
    np.save(root / "Std.npy", np.full(FEATURE_DIM, 2.0, dtype=np.float32))
    return arrays


WALK = "a man walks forward.#a/DET man/NOUN walk/VERB forward/ADV#0.0#0.0"


@pytest.fixture()
def tree(tmp_path):
    clips = {
        # 100 frames: whole-clip captions (one with NaN tags), a kept sub-segment [20, 70), a too-short one
        # [0, 20), an empty line and a malformed line.
        "000001": (100, [
            WALK,
            "",
            "someone walks.#someone/PRON walk/VERB#nan#nan",
            "a person turns around.#a/DET person/NOUN turn/VERB around/ADV#1.0#3.5",
            "the person turns.#the/DET person/NOUN turn/VERB#1.0#3.5",
            "a person waves.#a/DET person/NOUN wave/VERB#0.0#1.0",
            "this line has no tags",
        ]),
        "000002": (30, [WALK]),                       # too short: dropped
        "000003": (198, [WALK]),                      # kept, capped to 196
        "000004": (250, [WALK]),                      # too long: dropped (with its sub-segments)
        "000005": (80, None),                         # text file missing
        "000006": (120, ["a person jumps.#a/DET person/NOUN jump/VERB#2.0#4.5"]),  # only a sub-segment
        "000007": (None, [WALK]),                     # motion file missing
        "000008": (199, [WALK]),                      # 199 < 200: kept, capped
        "000009": (200, [WALK]),                      # 200: dropped (frames must be < 200)
        "000010": (40, [WALK]),                       # 40: kept (the minimum)
    }
    splits = {"train": [f"{i:06d}" for i in range(1, 11)], "val": ["000001", ""], "test": ["000003"]}
    arrays = write_tree(tmp_path, clips, splits)
    return tmp_path, arrays


def test_length_filter_sub_segments_and_cap(tree):
    root, arrays = tree
    records, report = load_split_with_report(root, "train")
    by_name = {r.name: r for r in records}
    assert sorted(by_name) == ["000001", "000001@20-70", "000003", "000006@40-90", "000008", "000010"]

    whole = by_name["000001"]
    assert [c.text for c in whole.captions] == ["a man walks forward.", "someone walks."]
    assert whole.captions[0].tokens == ("a/DET", "man/NOUN", "walk/VERB", "forward/ADV")
    assert whole.captions[1].start == 0.0 and whole.captions[1].end == 0.0  # NaN tags read as 0
    np.testing.assert_array_equal(whole.features, arrays["000001"])

    segment = by_name["000001@20-70"]
    assert [c.text for c in segment.captions] == ["a person turns around.", "the person turns."]
    assert segment.captions[0].start == 1.0 and segment.captions[0].end == 3.5
    np.testing.assert_array_equal(segment.features, arrays["000001"][20:70])
    assert segment.source_name == "000001" and segment.start_frame == 20 and segment.frames == 50

    assert "000006" not in by_name  # no caption covers the whole clip
    np.testing.assert_array_equal(by_name["000006@40-90"].features, arrays["000006"][40:90])

    assert by_name["000003"].frames == 196
    np.testing.assert_array_equal(by_name["000003"].features, arrays["000003"][:196])
    assert by_name["000008"].frames == 196
    assert by_name["000010"].frames == 40
    assert all(r.features.dtype == np.float32 and r.features.shape[1] == FEATURE_DIM for r in records)

    assert report.listed == 10
    assert report.missing_motion == ["000007"]
    assert report.missing_text == ["000005"]
    assert report.length_filtered_clips == 3      # 000002, 000004, 000009
    assert report.length_filtered_segments == 1   # 000001 [0, 20)
    assert report.empty_lines == 1
    assert report.malformed_lines == 1
    assert report.capped == 2
    assert report.segment_records == 2
    assert report.records == len(records) == 6


def test_length_parameters_are_honoured(tree):
    root, _ = tree
    names = {r.name for r in load_split(root, "train", min_frames=20, max_frames=260, cap_frames=300)}
    assert {"000002", "000004", "000009", "000001@0-20"} <= names
    lengths = {r.name: r.frames for r in load_split(root, "train", min_frames=20, max_frames=260, cap_frames=300)}
    assert lengths["000004"] == 250
    with pytest.raises(ValueError, match="min_frames"):
        load_split(root, "train", min_frames=50, max_frames=40)


def test_split_names_skip_blank_lines(tree):
    root, _ = tree
    assert read_split_names(root, "val") == ["000001"]
    assert [r.name for r in load_split(root, "test")] == ["000003"]


def test_strict_mode_names_the_missing_file(tree):
    root, _ = tree
    with pytest.raises(DatasetError, match=r"texts/000005\.txt: text file not found"):
        load_split(root, "train", strict=True)
    (root / "texts" / "000005.txt").write_text(WALK + "\n")
    with pytest.raises(DatasetError, match=r"new_joint_vecs/000007\.npy: motion file not found"):
        load_split(root, "train", strict=True)


@pytest.mark.parametrize("remove, message", [
    ("train.txt", r"train\.txt: split file for 'train' not found"),
    ("new_joint_vecs", r"new_joint_vecs: motion folder not found"),
    ("texts", r"texts: text folder not found"),
])
def test_missing_structure_is_a_clear_error(tree, remove, message):
    root, _ = tree
    target = root / remove
    if target.is_dir():
        for child in target.iterdir():
            child.unlink()
        target.rmdir()
    else:
        target.unlink()
    with pytest.raises(DatasetError, match=message):
        load_split(root, "train")


def test_missing_root(tmp_path):
    with pytest.raises(DatasetError, match="dataset folder not found"):
        load_split(tmp_path / "nowhere", "train")


@pytest.mark.parametrize("array, message", [
    (np.full((50, FEATURE_DIM), np.nan, dtype=np.float32), "NaN"),
    (np.zeros((50, 22, 3), dtype=np.float32), r"expected shape \(T, 263\)"),
    (np.zeros((50, 100), dtype=np.float32), r"expected shape \(T, 263\)"),
])
def test_bad_motion_files_name_the_file(tree, array, message):
    root, _ = tree
    np.save(root / "new_joint_vecs" / "000003.npy", array)
    with pytest.raises(DatasetError, match=rf"000003\.npy.*{message}"):
        load_split(root, "test")


def test_corrupt_motion_file(tree):
    root, _ = tree
    (root / "new_joint_vecs" / "000003.npy").write_bytes(b"not an npy file")
    with pytest.raises(DatasetError, match=r"000003\.npy"):
        load_split(root, "test")


def test_no_usable_motion_is_an_error(tree):
    root, _ = tree
    (root / "test.txt").write_text("000002\n000007\n")
    with pytest.raises(DatasetError, match=r"test\.txt: none of the 2 listed motions"):
        load_split(root, "test")


def test_parse_text_file(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("a b.#a/DET b/NOUN#0.5#NaN\n\n#no/DET caption/NOUN#0#0\nx#y#z#0\n")
    captions = parse_text_file(path)
    assert len(captions) == 1
    assert captions[0].start == 0.5 and captions[0].end == 0.0


def test_normalizer_and_actions(tree):
    root, _ = tree
    normalizer = load_normalizer(root)
    x = features(10, 99)
    np.testing.assert_allclose(normalizer.normalize(x), (x - 0.5) / 2.0, rtol=1e-6)
    (root / "actions.json").write_text(json.dumps({"000001": "walk"}))
    assert load_actions(root) == {"000001": "walk"}
    (root / "actions.json").write_text("[1, 2]")
    with pytest.raises(DatasetError, match="actions.json"):
        load_actions(root)
    (root / "Std.npy").unlink()
    with pytest.raises(DatasetError, match=r"Std\.npy"):
        load_normalizer(root)
    np.save(root / "Std.npy", np.zeros(FEATURE_DIM))
    with pytest.raises(DatasetError, match=r"Std\.npy: standard deviations must be positive"):
        load_normalizer(root)


def test_missing_actions_file(tree):
    root, _ = tree
    with pytest.raises(DatasetError, match=r"actions\.json"):
        load_actions(root)
