"""Evaluation metrics, baselines and classifiers; an end-to-end `evaluate_model` run on a tiny dataset."""
import json

import numpy as np
import pytest

from motiongpt.lm.action_classifier import CaptionActionClassifier, MotionActionClassifier
from motiongpt.lm.evaluation import (
    EvaluationSettings,
    ade_fde,
    constant_velocity,
    evaluate_model,
    linear_interpolation,
    text_to_motion_items,
    text_to_motion_seconds,
    text_to_motion_seed,
    zero_velocity,
)
from motiongpt.normalization import Normalizer

UNIT = Normalizer(np.zeros(263), np.ones(263))


def test_ade_fde_definition():
    target = np.zeros((3, 22, 3))
    predicted = target.copy()
    predicted[:, 0, 0] = [0.0, 3.0, 4.0]  # one joint off: per-frame norms 0, 3, 4
    assert ade_fde(predicted, target) == pytest.approx((7.0 / 3.0, 4.0))
    with pytest.raises(ValueError):
        ade_fde(predicted[:2], target)


def test_baselines():
    history = np.stack([np.full((22, 3), float(t)) for t in range(3)])
    np.testing.assert_allclose(zero_velocity(history, 2), np.full((2, 22, 3), 2.0))
    np.testing.assert_allclose(constant_velocity(history, 2)[:, 0, 0], [3.0, 4.0])
    np.testing.assert_allclose(linear_interpolation(np.zeros((22, 3)), np.full((22, 3), 4.0), 3)[:, 0, 0],
                               [1.0, 2.0, 3.0])


def test_motion_classifier_separates_distinct_motions():
    rng = np.random.default_rng(0)
    walk = [rng.normal(0.0, 1.0, (50 + i, 263)) for i in range(3)]
    jump = [rng.normal(5.0, 1.0, (60 + i, 263)) for i in range(3)]
    classifier = MotionActionClassifier(walk + jump, ["walk"] * 3 + ["jump"] * 3, UNIT)
    assert classifier.predict(rng.normal(5.0, 1.0, (45, 263))) == "jump"
    assert classifier.leave_one_out_accuracy() == 1.0
    with pytest.raises(ValueError):
        classifier.predict(np.zeros((10, 5)))


def test_caption_classifier_uses_word_overlap_and_left_right():
    classifier = CaptionActionClassifier(
        ["a person walks forward.", "a person turns to the left.", "a person turns to the right."],
        ["walk", "turn_left", "turn_right"])
    assert classifier.predict("someone walks forward") == "walk"
    assert classifier.predict("the man turns right") == "turn_right"
    assert classifier.predict("the man turns left") == "turn_left"
    assert classifier.predict("!!") is None


def test_text_to_motion_items_are_the_distinct_caption_action_pairs_with_their_first_motions_length():
    from types import SimpleNamespace

    def record(clip, frames, *texts):
        return SimpleNamespace(clip=clip, features=np.zeros((frames, 263)),
                               captions=[SimpleNamespace(text=t) for t in texts])

    records = [record("b", 60, "wave", "say hi"), record("a", 90, "wave", "raise a hand"), record("c", 45, "wave")]
    actions = {"a": "raise", "b": "wave", "c": "wave"}
    items = text_to_motion_items(records, lambda r: actions[r.clip])
    assert items == [(("raise a hand", "raise"), 90), (("say hi", "wave"), 60), (("wave", "raise"), 90),
                     (("wave", "wave"), 60)]
    assert text_to_motion_seconds(90, max_codes=50) == pytest.approx(4.5)
    assert text_to_motion_seconds(300, max_codes=50) == pytest.approx(10.0)  # 50 codes of 4 frames at 20 fps
    seeds = {text_to_motion_seed(0, sample, index) for sample in range(2) for index in range(len(items))}
    assert len(seeds) == 2 * len(items)


def write_tiny_dataset(root, rng):
    """A HumanML3D-layout folder with two actions, real feature extraction from synthetic joints."""
    from motiongpt.features import joints_to_features
    from motiongpt.skeleton import PARENTS, RAW_OFFSETS, TARGET_BONE_LENGTHS

    rest = np.zeros((22, 3))
    for joint in range(1, 22):
        rest[joint] = rest[PARENTS[joint]] + RAW_OFFSETS[joint] * TARGET_BONE_LENGTHS[joint]
    rest[:, 1] -= rest[:, 1].min()
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    actions, splits = {}, {"train": [], "test": []}
    for split, count in (("train", 3), ("test", 2)):
        for action, speed in (("walk", 0.04), ("jump", 0.0)):
            for i in range(count):
                frames = 57 + 4 * i
                t = np.arange(frames)[:, None]
                joints = rest[None].repeat(frames, 0)
                joints[:, :, 2] += speed * t
                if action == "jump":
                    joints[:, :, 1] += 0.3 * np.abs(np.sin(t / 5.0))
                joints += rng.normal(0, 0.002, joints.shape)
                name = f"{split}_{action}_{i}"
                np.save(root / "new_joint_vecs" / f"{name}.npy", joints_to_features(joints).astype(np.float32))
                caption = (f"a person {action}s" if split == "train" else f"the figure {action}s")
                (root / "texts" / f"{name}.txt").write_text(f"{caption}#a/DET#0.0#0.0\n")
                actions[name] = action
                splits[split].append(name)
    for split, names in splits.items():
        (root / f"{split}.txt").write_text("\n".join(names) + "\n")
    np.save(root / "Mean.npy", np.zeros(263))
    np.save(root / "Std.npy", np.ones(263))
    (root / "actions.json").write_text(json.dumps(actions))


def test_evaluate_model_end_to_end(tiny_motiongpt, tmp_path):
    write_tiny_dataset(tmp_path / "data", np.random.default_rng(0))
    tiny_motiongpt.save_pretrained(tmp_path / "model")
    report = evaluate_model(tmp_path / "model", tmp_path / "data", EvaluationSettings(seed=0))
    json.dumps(report)  # serialisable
    t2m = report["text_to_motion"]
    assert t2m["captions"] == 2 and t2m["captions_unseen_in_training"] == 2
    assert 0.0 <= t2m["action_accuracy"] <= 1.0
    # the classifier's references are the training motions; its check is on the real held-out motions,
    # which this tiny dataset makes easy (still vs moving): it must get every one right
    assert t2m["classifier"].endswith("real training motions")
    assert t2m["classifier_accuracy_on_real_held_out_motions"] == 1.0
    assert t2m["classifier_accuracy_on_real_held_out_motions_per_action"] == {"jump": 1.0, "walk": 1.0}
    assert 0.0 <= t2m["split_referenced_classifier"]["action_accuracy"] <= 1.0
    m2t = report["motion_to_text"]
    assert m2t["motions"] == 4
    # every motion whose caption names another action is listed (the accuracy follows from them)
    assert m2t["action_accuracy"] == pytest.approx(1 - len(m2t["misses"]) / 4)
    assert all(miss["named_action"] != miss["action"] for miss in m2t["misses"])
    for name in ("model", "zero_velocity", "constant_velocity", "tokenizer_reconstruction"):
        assert report["prediction"][name]["n"] == 4 and report["prediction"][name]["ADE"] >= 0
    assert {"model", "linear_interpolation", "tokenizer_reconstruction"} <= set(report["inbetween"])
    assert report["seconds_per_command"]["multi_step_command"]["n"] == 3
    assert report["held_out_commands"]["commands"] == 12  # the spoken commands of held_out_phrasings.yaml

    (tmp_path / "data" / "val.txt").write_text((tmp_path / "data" / "test.txt").read_text())
    on_val = evaluate_model(tmp_path / "model", tmp_path / "data", EvaluationSettings(seed=0, split="val",
                                                                                      max_items=1))
    assert on_val["held_out_commands"]["commands"] == 0  # test material: never run for choices on val


def test_style_accuracy_is_compared_where_the_training_motions_have_the_pair(tiny_motiongpt, tmp_path):
    """The style classifier can only answer a style the training motions of the same action are performed in:
    a held-out walk in a style no training walk has is never recognised, real or generated. The comparable
    pair of accuracies leaves such (action, style) pairs out, on both sides."""
    root = tmp_path / "data"
    write_tiny_dataset(root, np.random.default_rng(0))
    styles = {f"train_walk_{i}": "happy" for i in range(3)} | {f"train_jump_{i}": "angry" for i in range(3)}
    styles |= {"test_walk_0": "happy", "test_walk_1": "angry", "test_jump_0": "angry", "test_jump_1": "angry"}
    (root / "styles.json").write_text(json.dumps(styles))
    for name, phrase in (("test_walk_0", "happily"), ("test_walk_1", "angrily"), ("test_jump_0", "angrily"),
                         ("test_jump_1", "angrily")):
        action = name.split("_")[1]
        (root / "texts" / f"{name}.txt").write_text(f"the figure {action}s {phrase}#a/DET#0.0#0.0\n")
    tiny_motiongpt.save_pretrained(tmp_path / "model")
    t2m = evaluate_model(tmp_path / "model", root, EvaluationSettings(seed=0, text_to_motion_only=True))["text_to_motion"]
    assert t2m["style_captions"] == 3            # walk happily, walk angrily, jump angrily
    assert t2m["style_captions_trained_pairs"] == 2   # no training walk is angry
    assert t2m["style_classifier_accuracy_on_real_held_out_motions"] == 0.75  # the angry walk is missed
    assert t2m["style_real_motions_trained_pairs"] == 3
    assert t2m["style_classifier_accuracy_on_real_held_out_motions_trained_pairs"] == 1.0
    assert t2m["per_style"].get("angry") is not None and 0.0 <= t2m["style_accuracy_trained_pairs"] <= 1.0
