"""The embedded DeepMimic dataset: determinism, layout, counts, splits, captions, mirroring."""
from __future__ import annotations

import collections
import filecmp
import json

import numpy as np
import pytest

from motiongpt.cli import main
from motiongpt.data.augment import mirror_text
from motiongpt.data.bandai_dataset import held_out_phrasings
from motiongpt.data.captions import caption_table
from motiongpt.data.embedded import EmbeddedConfig, build_embedded, plan_variants
from motiongpt.data.humanml3d import load_actions, load_normalizer, load_split
from motiongpt.features import recover_from_ric


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("embedded")
    summary = build_embedded(root)
    return root, summary


def names(root, split):
    return (root / f"{split}.txt").read_text().split()


def captions_of(root, name):
    return [line.split("#")[0] for line in (root / "texts" / f"{name}.txt").read_text().splitlines()]


def test_two_builds_are_byte_identical_and_the_cli_prints_counts(built, tmp_path, capsys):
    root, summary = built  # built in this process; again in 3 worker processes
    assert main(["data", "build-embedded", "--out", str(tmp_path / "again"), "--workers", "3"]) == 0
    printed = capsys.readouterr().out
    assert f"motions: {sum(summary.motions.values())} (train {summary.motions['train']}" in printed
    assert "sources: deepmimic; clips (takes): 20" in printed and "captions:" in printed and "frames:" in printed
    assert f"actions: {len(summary.actions)} (" in printed and "styles: 0 (none)" in printed
    assert f" h (train {summary.frames['train']}" in printed
    assert f"{summary.distinct_captions} distinct" in printed and "licence: DeepMimic clips" in printed
    comparison = filecmp.dircmp(root, tmp_path / "again")
    pending = [comparison]
    while pending:
        current = pending.pop()
        assert not current.left_only and not current.right_only and not current.funny_files
        _, mismatch, errors = filecmp.cmpfiles(current.left, current.right, current.common_files, shallow=False)
        assert not mismatch and not errors, mismatch
        pending.extend(current.subdirs.values())
    # another seed gives other lengths/phases
    planned = [v.name for v in plan_variants(EmbeddedConfig(), caption_table())]
    assert sorted(planned) == sorted(names(root, "all"))  # all.txt lists train, val, test in turn
    other_seed = [v.name for v in plan_variants(EmbeddedConfig(seed=7), caption_table())]
    assert other_seed != planned and len(other_seed) == len(planned)


def test_layout_and_counts(built):
    root, summary = built
    splits = {split: names(root, split) for split in ("train", "val", "test")}
    assert summary.clips == 20
    assert {k: len(v) for k, v in splits.items()} == summary.motions
    assert summary.motions["train"] > summary.motions["test"] > 0 and summary.motions["val"] > 0
    every = sum(splits.values(), [])
    assert len(every) == len(set(every))                       # splits are disjoint
    assert sorted(names(root, "all")) == sorted(every)
    assert names(root, "train_val") == splits["train"] + splits["val"]
    frames = 0
    for name in every:
        features = np.load(root / "new_joint_vecs" / f"{name}.npy")
        joints = np.load(root / "new_joints" / f"{name}.npy")
        assert features.dtype == np.float32 and features.shape[1] == 263
        assert 40 <= len(features) < 200
        assert joints.shape == (len(features), 22, 3)
        np.testing.assert_allclose(joints, recover_from_ric(features), atol=1e-5)
        frames += len(features)
    assert frames == sum(summary.frames.values())
    # the loader takes it with the HumanML3D defaults and drops nothing
    for split, listed in splits.items():
        assert [r.name for r in load_split(root, split)] == listed
    normalizer = load_normalizer(root)
    assert np.all(normalizer.std > 0)
    info = json.loads((root / "dataset.json").read_text())
    assert len(info["variants"]) == len(every) and info["config"]["seed"] == 1234


def test_actions_cover_every_split(built):
    root, _ = built
    actions = load_actions(root)
    table = caption_table()
    expected = {entry.action for entry in table.values()}
    assert set(actions) == set(names(root, "all"))
    for split in ("train", "val", "test"):
        assert {actions[n] for n in names(root, split)} == expected, split
    counts = collections.Counter(actions[n] for n in names(root, "test"))
    assert min(counts.values()) >= 2


def test_held_out_split(built):
    root, _ = built
    table = caption_table()
    held = held_out_phrasings()
    train_captions = {c for n in names(root, "train") + names(root, "val") for c in captions_of(root, n)}
    test = names(root, "test")
    for name in test:
        clip = name.split("-x")[0]
        allowed = set(held.for_action(table[clip].action))
        for caption in captions_of(root, name):
            assert caption not in train_captions, (name, caption)
            # test captions are only held_out_phrasings.yaml's phrasings of the motion's action (mirrored)
            assert (mirror_text(caption) if name.endswith("-M") else caption) in allowed, (name, caption)
    # the second performances are test-only; the others' test motions use a speed not used in training
    test_only = {clip for clip, entry in table.items() if entry.test_only}
    assert test_only == {"0walk_forward", "turn_left1", "turn_right1"}
    train_val = names(root, "train") + names(root, "val")
    assert not any(n.split("-x")[0] in test_only for n in train_val)
    train_speeds = {n.split("-x")[1][:3] for n in train_val}
    for name in test:
        if name.split("-x")[0] not in test_only:
            assert name.split("-x")[1][:3] not in train_speeds, name
    # every action's held-out phrasings are used in test; captions.yaml's held_out phrasings go to val
    used = {c for n in test for c in captions_of(root, n)}
    for clip, entry in table.items():
        assert set(held.for_action(entry.action)) & (used | {mirror_text(c) for c in used}), clip
    val = {c for n in names(root, "val") for c in captions_of(root, n)}
    for clip, entry in table.items():
        if not entry.test_only:
            assert set(entry.held_out) <= val, clip


def test_every_motion_has_captions_and_mirrors_swap_sides(built):
    root, _ = built
    actions = load_actions(root)
    table = caption_table()
    held = held_out_phrasings()
    test = set(names(root, "test"))
    for name in names(root, "all"):
        clip = name.split("-x")[0]
        lines = (root / "texts" / f"{name}.txt").read_text().splitlines()
        assert lines and all(len(line.split("#")) == 4 and line.endswith("#0.0#0.0") for line in lines)
        texts = [line.split("#")[0] for line in lines]
        if name in test:
            source = held.for_action(table[clip].action)
        else:
            source = table[clip].captions + table[clip].held_out
        if name.endswith("-M"):
            assert all(mirror_text(t) in source for t in texts), name
            assert actions[name] == {"turn_left": "turn_right", "turn_right": "turn_left"}.get(
                table[clip].action, table[clip].action)
        else:
            assert all(t in source for t in texts), name
            assert actions[name] == table[clip].action
        if "-x100-" not in name:
            assert not any("quickly" in t for t in texts), name  # no speed word on a re-timed motion
    kick = [n for n in names(root, "train") if n.startswith("kick-")]
    plain = captions_of(root, next(n for n in kick if not n.endswith("-M")))
    mirrored = captions_of(root, next(n for n in kick if n.endswith("-M")))
    assert any("right leg" in c for c in plain) and not any("left leg" in c for c in plain)
    assert any("left leg" in c for c in mirrored) and not any("right leg" in c for c in mirrored)
    assert [mirror_text(c) for c in plain] == mirrored


def test_val_phrasings_are_kept_out_of_train(built):
    root, _ = built
    train = {c for n in names(root, "train") for c in captions_of(root, n)}
    val = {c for n in names(root, "val") for c in captions_of(root, n)}
    test = {c for n in names(root, "test") for c in captions_of(root, n)}
    assert val and not (val & train) and not (val & test) and not (train & test)
    # one reserved training phrasing per clip plus captions.yaml's held_out (and their mirror texts)
    table = caption_table()
    for name in names(root, "val"):
        clip = name.split("-x")[0]
        texts = captions_of(root, name)
        texts = [mirror_text(t) for t in texts] if name.endswith("-M") else texts
        assert set(table[clip].held_out) <= set(texts) <= set(table[clip].captions + table[clip].held_out), name
    assert all(captions_of(root, n) for n in names(root, "val"))
