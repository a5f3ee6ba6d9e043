"""The Bandai Namco takes in the embedded dataset: caption tables, splits, pieces, speeds, composed captions,
and a build with the three fixture takes."""
from __future__ import annotations

import collections
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from motiongpt.cli import main
from motiongpt.data import augment
from motiongpt.data import bandai_dataset as plan
from motiongpt.data.bandai import BandaiTake, list_takes
from motiongpt.data.captions import caption_table
from motiongpt.data.humanml3d import load_actions, load_split

SETTINGS = plan.BandaiSettings()
STYLE_WORDS = {"happy", "happily", "sad", "sadly", "angry", "angrily", "proud", "proudly", "confident",
               "confidently", "masculine", "masculinity", "feminine", "childish", "childishly", "old", "tired",
               "active", "musical", "giant", "chimpira", "elderly", "exhausted", "youthful", "normal"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def take(dataset: int, content: str, style: str, number: int) -> BandaiTake:
    return BandaiTake(Path(f"/x/dataset-{dataset}_{content}_{style}_{number:03d}.bvh"), dataset, content, style,
                      number)


def all_training_texts() -> set[str]:
    table = plan.bandai_caption_table()
    texts = [c for e in caption_table().values() for c in e.captions]
    texts += [c for e in table.contents.values() for c in e.captions]
    return {plan.normalise(t) for text in texts for t in (text, augment.mirror_text(text))}


# ------------------------------------------------------------------------------------------ caption tables
def test_caption_table_loads_and_is_valid():
    table = plan.bandai_caption_table()
    assert {"walk", "run", "wave-right-hand", "wave-left-hand", "bow", "kick"} <= set(table.contents)
    style_words = STYLE_WORDS | {w for style in table.styles for w in style.split("-") if w != "not"}
    for name, content in table.contents.items():
        assert len(content.captions) >= 12, name
        assert len(set(content.captions)) == len(content.captions), name
        assert content.activity in ("cyclic", "discrete")
        for caption in content.captions:
            assert not augment.mentions_speed(caption), caption
            assert not words(caption) & style_words, caption
            if "left" in name:
                assert "right" not in words(caption), caption
            if "right" in name:
                assert "left" not in words(caption), caption
    assert plan.content_action("walk-turn-left", "walk_turn_left") == "turn_left"
    assert table.contents["walk-turn-left"].action == "turn_left"
    assert set(table.speeds) == {"slow", "fast"}
    speed_phrases = [plan.normalise(p) for phrases in table.speeds.values() for p in phrases]
    assert all(len(phrases) >= 3 for phrases in table.speeds.values())
    for content in table.contents.values():    # nor one of the speed phrases ("unhurriedly", "in slow motion")
        for caption in content.captions:
            assert not any(re.search(rf"\b{p}\b", plan.normalise(caption)) for p in speed_phrases), caption
    assert all(len(phrases) >= 3 for phrases in table.styles.values())


def test_named_style_reads_the_captions_own_style_phrases():
    from motiongpt.data.bandai_dataset import bandai_caption_table, named_style, style_label

    assert named_style("Put your left hand up wearily, like it weighs a ton.") == "exhausted"  # tired -> exhausted
    assert named_style("walk like a tired old man") == "exhausted"  # one phrase, though "old man" is in it
    assert named_style("stiffly like an old person") == "elderly"
    assert named_style("RAISE YOUR HAND PROUDLY") == "proud"
    assert named_style("wave happily, then sadly") is None  # two styles: no one style
    assert named_style("walk forward quickly") is None  # a speed is not a style
    # every phrase of the table names its own style
    for style, phrases in bandai_caption_table().styles.items():
        for phrase in phrases:
            assert named_style(f"a person walks forward {phrase}.") == style_label(style), phrase


def test_held_out_phrasings_cover_every_action_and_are_never_trained_on():
    table = plan.bandai_caption_table()
    held = plan.held_out_phrasings()
    actions = {c.action for c in table.contents.values()} | {e.action for e in caption_table().values()}
    for action in actions | {augment.mirror_action(a) for a in actions}:
        assert len(held.for_action(action)) >= 3, action
    with pytest.raises(plan.BandaiCaptionError, match="no phrasing"):
        held.for_action("moonwalk")
    training = all_training_texts()
    val = {plan.normalise(c) for e in caption_table().values() for c in e.held_out}
    for action, phrasings in held.actions.items():
        for phrasing in phrasings:
            assert plan.normalise(phrasing) not in training | val, (action, phrasing)
    style_phrases = {plan.normalise(p) for phrases in table.styles.values() for p in phrases}
    for style, phrases in held.styles.items():
        assert not {plan.normalise(p) for p in phrases} & style_phrases, style
    speed_phrases = {plan.normalise(p) for phrases in table.speeds.values() for p in phrases}
    for speed, phrases in held.speeds.items():
        assert not {plan.normalise(p) for p in phrases} & speed_phrases, speed
    # the file holds phrasings that coincide with training captions: the loader drops exactly those
    raw = plan._read("held_out_phrasings.yaml")["actions"]
    assert "do a backflip" in raw["backflip"] and "do a backflip" not in held.actions["backflip"]
    for action, phrasings in raw.items():
        kept = [p for p in phrasings if plan.normalise(p) not in training | val]
        assert list(held.actions.get(action, ())) == kept, action
    # every style of the table has held-out phrases (under its own name or its label)
    for style in table.styles:
        if style != "normal":
            assert plan.held_out_style_phrases(held, style), style
    assert plan.normalise("Do a  Backflip!") == "do a backflip"


# ---------------------------------------------------------------------------------------------- splits
def test_dataset_2_last_take_of_each_content_style_is_test_and_the_one_before_val():
    takes = [take(2, "walk", "happy", n) for n in (3, 1, 7, 5)] + [take(2, "walk", "sad", n) for n in (2, 4)]
    takes += [take(2, "run", "sad", n) for n in (10, 11, 12)] + [take(2, "run", "happy", 9)]
    splits = plan.assign_splits(takes, seed=1)
    by = {(t.content, t.style, t.take): splits[str(t.path)] for t in takes}
    assert [by[("walk", "happy", n)] for n in (1, 3, 5, 7)] == ["train", "train", "val", "test"]
    assert [by[("walk", "sad", n)] for n in (2, 4)] == ["train", "test"]     # two takes: no val
    assert [by[("run", "sad", n)] for n in (10, 11, 12)] == ["train", "val", "test"]
    assert by[("run", "happy", 9)] == "train"                                # a group of one stays train
    assert plan.assign_splits(list(reversed(takes)), seed=99) == splits   # order and seed do not matter


def test_dataset_1_one_test_and_one_val_take_per_content():
    styles = ["normal", "happy", "sad", "angry", "proud", "not-confident", "masculinity", "feminine", "childish",
              "old", "tired", "active", "musical", "giant", "chimpira"]
    takes = [take(1, content, style, 1) for content in ("bow", "walk") for style in styles]
    takes += [take(1, "kick", "normal", 1)] + [take(1, "punch", s, 1) for s in ("happy", "sad")]
    splits = plan.assign_splits(takes, seed=5)
    assert splits == plan.assign_splits(list(reversed(takes)), seed=5)           # deterministic
    for content in ("bow", "walk"):
        counts = collections.Counter(splits[str(t.path)] for t in takes if t.content == content)
        assert counts == {"train": 13, "val": 1, "test": 1}, content
    assert splits[str(takes[2 * len(styles)].path)] == "pieces"                  # a single-take content
    assert sorted(splits[str(t.path)] for t in takes if t.content == "punch") == ["test", "train"]
    chosen = {seed: tuple(sorted(t.style for t in takes if t.content == "bow" and
                                 plan.assign_splits(takes, seed)[str(t.path)] != "train")) for seed in range(8)}
    assert len(set(chosen.values())) > 1                                         # the seed picks the styles
    # dataset 1 and 2 of the same content are split apart
    both = [take(1, "walk", "happy", 1), take(2, "walk", "happy", 1), take(2, "walk", "happy", 2)]
    assert [plan.assign_splits(both, 0)[str(t.path)] for t in both] == ["pieces", "train", "test"]


# ---------------------------------------------------------------------------------------- pieces, speeds
@pytest.mark.parametrize("frames", [1, 30, 41, 100, 197, 198, 393, 394, 500, 1000, 2345])
def test_cut_pieces_are_between_40_and_196_feature_frames_and_cover_the_take(frames):
    joints = np.cumsum(np.random.default_rng(frames).normal(size=(frames, 22, 3)), axis=0)
    pieces = plan.cut_pieces(joints, SETTINGS)
    assert len(pieces) == plan.piece_count(frames, SETTINGS)
    for piece in pieces:
        assert 41 <= len(piece) <= 197
    if frames >= 41:
        step = len(pieces[0]) - 1
        assert all(len(p) == step + 1 for p in pieces)
        for index, piece in enumerate(pieces):                     # consecutive, sharing the boundary frame
            np.testing.assert_array_equal(piece, joints[index * step: index * step + step + 1])
        assert frames - 1 - len(pieces) * step < len(pieces)      # at most pieces-1 trailing frames left out
    elif frames == 1:
        assert (pieces[0] == joints[0]).all()
    else:                                                          # held still at both ends
        piece = pieces[0]
        offsets = [i for i in range(len(piece) - frames + 1) if np.array_equal(piece[i:i + frames], joints)]
        assert len(offsets) == 1
        before, after = offsets[0], len(piece) - frames - offsets[0]
        assert abs(before - after) <= 1
        assert (piece[:before] == joints[0]).all() and (piece[len(piece) - after:] == joints[-1]).all()


def test_plan_take_has_speed_variants_only_in_train():
    settings = plan.BandaiSettings(speed_probability=1.0)
    for split in ("val", "test"):
        plans = plan.plan_take(take(2, "walk", "happy", 1), 500, split, 0, settings)
        assert {speed for speed, *_ in plans} == {1.0} and {p[3] for p in plans} == {split}
        assert [p[1] for p in plans] == [0, 1, 2] and {p[2] for p in plans} == {3}
    train = plan.plan_take(take(2, "walk", "happy", 1), 150, "train", 0, settings)
    speeds = {speed for speed, *_ in train}
    assert len(speeds) == 2 and 1.0 in speeds and speeds - {1.0} <= {SETTINGS.slow_factor, SETTINGS.fast_factor}
    assert {p[3] for p in train} == {"train"}
    slow = plan.BandaiSettings(speed_probability=1.0, slow_factor=0.5, fast_factor=0.5)
    assert [(s, p, n) for s, p, n, _ in plan.plan_take(take(2, "walk", "happy", 1), 150, "train", 0, slow)] == \
        [(1.0, 0, 1), (0.5, 0, 2), (0.5, 1, 2)]          # 149 / 0.5 = 298 features: two pieces when slowed
    never = plan.BandaiSettings(speed_probability=0.0)
    assert {s for s, *_ in plan.plan_take(take(2, "walk", "happy", 1), 150, "train", 0, never)} == {1.0}
    # about speed_probability of the train takes are resampled
    resampled = sum(len(plan.speeds_for(take(2, "walk", "happy", n), "train", 3, SETTINGS)) == 2
                    for n in range(400))
    assert 150 < resampled < 250


def test_a_pieces_take_is_split_in_time_at_speed_1():
    settings = plan.BandaiSettings(speed_probability=1.0)
    single = take(1, "kick", "normal", 1)
    plans = plan.plan_take(single, 700, "pieces", 0, settings)
    assert [p[3] for p in plans] == ["train", "train", "val", "test"]
    assert {p[0] for p in plans} == {1.0} and [p[1] for p in plans] == [0, 1, 2, 3]
    assert [p[3] for p in plan.plan_take(single, 300, "pieces", 0, settings)] == ["train", "test"]
    assert [p[3] for p in plan.plan_take(single, 150, "pieces", 0, settings)] == ["train"]
    assert plan.motion_name(single, 1.0, 3, 4, True) == "bn1-kick-normal-001-x100-p4of4-M"
    assert plan.speed_name(0.7, SETTINGS) == "slow" and plan.speed_name(1.4, SETTINGS) == "fast"
    assert plan.speed_name(1.0, SETTINGS) is None


# ------------------------------------------------------------------------------------------- captions
def possible_lines(bases, styles, speeds) -> set[str]:
    return {plan._join(base, style, speed) for base in bases for style in ("",) + tuple(styles)
            for speed in (tuple(speeds) or ("",))}


@pytest.mark.parametrize("content_name,style", [("walk", "happy"), ("wave-right-hand", "masculinity"),
                                                ("walk-turn-left", "old"), ("bow", "normal"), ("run", "tired")])
def test_compose_captions_draw_each_split_from_its_own_phrasings(content_name, style):
    table, held = plan.bandai_caption_table(), plan.held_out_phrasings()
    content = table.contents[content_name]
    reserved = content.captions[-SETTINGS.val_phrasings:]
    training = content.captions[:-SETTINGS.val_phrasings]
    held_content = held.for_action(content.action)
    held_styles = plan.held_out_style_phrases(held, style)
    styles = table.styles.get(style, ())
    seen = collections.defaultdict(set)
    for seed, speed in itertools.product(range(12), (None, "slow", "fast")):
        for split in ("train", "val", "test"):
            if split != "train" and speed:
                continue
            rng = np.random.default_rng(seed)
            lines = plan.compose_captions(content, style, speed, split, rng, table, held, SETTINGS)
            assert lines and len(set(lines)) == len(lines)
            assert len(lines) <= (SETTINGS.train_lines if split == "train" else SETTINGS.eval_lines)
            seen[split].update(lines)
            if split == "test":
                assert set(lines) <= possible_lines(held_content, held_styles, ()), lines
            elif split == "val":
                assert set(lines) <= possible_lines(reserved, styles[-1:], ()), lines
            else:
                speeds = table.speeds[speed][:-1] if speed else ()
                assert set(lines) <= possible_lines(training, styles[:-1], speeds), lines
                if speed:     # a resampled motion always says its speed
                    assert all(any(line.rstrip(".").endswith(p) for p in speeds) for line in lines), lines
                else:
                    assert not any(augment.mentions_speed(line) for line in lines), lines
            if style != "normal":
                phrases = {"test": held_styles, "val": styles[-1:], "train": styles[:-1]}[split]
                if split == "train":   # most lines name the style
                    assert any(any(p in line for p in phrases) for line in lines), lines
    assert not seen["test"] & (seen["train"] | seen["val"]) and not seen["val"] & seen["train"]
    if style != "normal":   # the style shows up in test and val lines too, over several motions
        assert any(any(p in line for p in held_styles) for line in seen["test"])
        assert any(any(p in line for p in styles[-1:]) for line in seen["val"])


# ------------------------------------------------------------------------------------ build with fixtures
@pytest.fixture(scope="module")
def built(bandai_built):
    """(out, summary, tree): the embedded dataset built with three fixture takes (conftest.py)."""
    return bandai_built


def names(root, split):
    return (root / f"{split}.txt").read_text().split()


def captions_of(root, name):
    return [line.split("#")[0] for line in (root / "texts" / f"{name}.txt").read_text().splitlines()]


def test_build_adds_the_bandai_takes_with_their_splits(built):
    out, summary, _ = built
    takes = plan.assign_splits(list_takes(built[2]), 1234)
    # each fixture is the only take of its content: split in time, and at most 197 frames is one piece: train
    assert sorted(takes.values()) == ["pieces"] * 3
    expected = {"bn1-bow-masculinity-001-x100-p1of1", "bn2-walk-active-013-x100-p1of1",
                "bn2-wave-right-hand-active-023-x100-p1of1"}
    expected |= {f"{n}-M" for n in expected}
    bandai = {n for n in names(out, "all") if n.startswith("bn")}
    assert bandai == expected
    assert bandai <= set(names(out, "train")) and not bandai & set(names(out, "val") + names(out, "test"))
    assert summary.clips == 23 and summary.sources == ["bandai", "deepmimic"]
    assert [r.name for r in load_split(out, "train")] == names(out, "train")   # the loader drops none
    for name in bandai:
        features = np.load(out / "new_joint_vecs" / f"{name}.npy")
        joints = np.load(out / "new_joints" / f"{name}.npy")
        assert features.shape[1] == 263 and 40 <= len(features) <= 196 and np.isfinite(features).all()
        assert joints.shape == (len(features), 22, 3) and np.isfinite(joints).all()
    assert len(np.load(out / "new_joint_vecs" / "bn2-walk-active-013-x100-p1of1.npy")) == 119
    info = json.loads((out / "dataset.json").read_text())
    assert info["bandai_takes"] == 3 and "bandai" in info["sources"]
    assert np.isfinite(np.load(out / "Mean.npy")).all() and (np.load(out / "Std.npy") > 0).all()


def test_bandai_labels_styles_licence_and_mirrored_captions(built):
    out, summary, _ = built
    actions = load_actions(out)
    assert actions["bn2-wave-right-hand-active-023-x100-p1of1"] == "wave_right_hand"
    assert actions["bn2-wave-right-hand-active-023-x100-p1of1-M"] == "wave_left_hand"
    assert actions["bn2-walk-active-013-x100-p1of1"] == actions["bn2-walk-active-013-x100-p1of1-M"] == "walk"
    assert actions["bn1-bow-masculinity-001-x100-p1of1"] == "bow"
    assert {"wave_right_hand", "wave_left_hand", "bow", "walk"} <= set(summary.actions)
    styles = json.loads((out / "styles.json").read_text())
    assert set(styles) == {n for n in names(out, "all") if n.startswith("bn")}      # DeepMimic has no style
    assert styles["bn1-bow-masculinity-001-x100-p1of1"] == "masculine"               # the evaluation label
    assert styles["bn2-walk-active-013-x100-p1of1-M"] == "active"
    assert summary.styles == ["active", "masculine"]
    licence = (out / "LICENSE.md").read_text()
    assert "CC BY-NC 4.0" in licence and "Bandai Namco Research Inc." in licence and "DeepMimic" in licence
    assert any("CC BY-NC 4.0" in text for text in summary.licences)
    table = plan.bandai_caption_table()
    wave = captions_of(out, "bn2-wave-right-hand-active-023-x100-p1of1")
    mirrored = captions_of(out, "bn2-wave-right-hand-active-023-x100-p1of1-M")
    assert len(wave) == SETTINGS.train_lines and mirrored == [augment.mirror_text(c) for c in wave]
    assert all("right" in words(c) and "left" not in words(c) for c in wave)
    assert all("left" in words(c) and "right" not in words(c) for c in mirrored)
    allowed = possible_lines(table.contents["wave-right-hand"].captions[:-SETTINGS.val_phrasings],
                             table.styles["active"][:-1], ())
    assert set(wave) <= allowed
    distinct = {c for n in names(out, "all") for c in captions_of(out, n)}
    assert summary.distinct_captions == len(distinct)


def test_cli_build_with_bandai_prints_the_summary(built, tmp_path, capsys):
    out, summary, tree = built
    assert main(["data", "build-embedded", "--out", str(tmp_path / "again"), "--bandai", str(tree)]) == 0
    printed = capsys.readouterr().out
    motions = summary.motions
    assert "sources: bandai, deepmimic; clips (takes): 23" in printed
    assert f"motions: {sum(motions.values())} (train {motions['train']}, val {motions['val']}, " \
           f"test {motions['test']})" in printed
    hours = sum(summary.frames.values()) / 20 / 3600
    assert f"frames: {sum(summary.frames.values())} feature frames at 20 fps = {hours:.2f} h" in printed
    assert f"captions: {sum(summary.captions.values())} caption lines, {summary.distinct_captions} distinct" \
        in printed
    assert f"actions: {len(summary.actions)} (" in printed and "wave_left_hand" in printed
    assert "styles: 2 (active, masculine)" in printed and "CC BY-NC 4.0" in printed
    assert (tmp_path / "again" / "texts" / "bn2-walk-active-013-x100-p1of1.txt").read_text() == \
        (out / "texts" / "bn2-walk-active-013-x100-p1of1.txt").read_text()


def test_more_style_phrases_are_read_besides_the_captions_and_may_not_contradict_them():
    from motiongpt.data.bandai_dataset import BandaiCaptionError, named_style, style_phrases

    phrases = style_phrases({"old": ["like my grandpa"], "happy": ["all smiles"]})  # by name or label
    assert named_style("walk like my grandpa", phrases) == "elderly"
    assert named_style("walk like my grandpa") is None  # the captions' phrases alone
    assert named_style("bow proudly", phrases) == "proud"  # the captions' phrases are still read
    assert named_style("wave all smiles like my grandpa", phrases) is None  # two styles
    with pytest.raises(BandaiCaptionError, match="names another style"):
        style_phrases({"happy": ["wearily"]})  # a caption phrase of tired
    with pytest.raises(BandaiCaptionError, match="not a style of the data"):
        style_phrases({"sleepy": ["yawning"]})
    with pytest.raises(BandaiCaptionError, match="empty"):
        style_phrases({"happy": ["!!"]})
