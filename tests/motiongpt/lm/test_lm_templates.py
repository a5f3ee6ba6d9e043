import json
import random
import re

import pytest

from motiongpt.lm.templates import (
    PromptFiller,
    TemplateError,
    load_templates,
    split_for_inbetween,
    split_for_prediction,
)
from motiongpt.lm.vocabulary import MotionVocabulary, parse_motion

VOC = MotionVocabulary(512)
PLACEHOLDER = re.compile(r"<[A-Z][A-Za-z_0-9]*_Placeholder[A-Za-z_0-9]*>")


def test_builtin_instruction_set_covers_the_tasks():
    tasks = load_templates("instructions")
    keys = {t.key for t in tasks}
    for key in ("Text-to-Motion/caption", "Text-to-Motion/caption_framelen", "Text-to-Motion/caption_seclen",
                "Motion-to-Text/caption", "Motion-to-Text/count-frame", "Motion-to-Text/count-sec",
                "Text-to-Text/caption-to-seclen", "Motion-to-Motion/motion_prediction",
                "Motion-to-Motion/motion_inbetween"):
        assert key in keys
    for task in tasks:
        assert len(task.inputs) >= 20, task.key
        assert len(set(task.inputs)) == len(task.inputs)
    # the inference prompts of section 4.4 are part of the training templates
    caption = next(t for t in tasks if t.key == "Text-to-Motion/caption")
    assert "Generate motion: <Caption_Placeholder>" in caption.inputs


def test_every_template_fills_completely():
    filler = PromptFiller(VOC)
    rng = random.Random(1)
    for task in load_templates("instructions") + load_templates("pretrain"):
        for template in task.inputs + task.outputs:
            text = filler.fill(template, "a person waves", list(range(20)), rng=rng)
            assert not PLACEHOLDER.search(text), (task.key, template, text)


def test_lengths_are_frames_and_seconds_of_the_codes():
    filler = PromptFiller(VOC, quote_probability=0.0)
    assert filler.fill("<Frame_Placeholder> / <Second_Placeholder>", codes=list(range(49))) == "196 / 9.8"
    assert filler.fill("<Caption_Placeholder>", caption="x") == "x"
    assert PromptFiller(VOC, quote_probability=1.0).fill("<Caption_Placeholder>", caption="x") == '"x"'


def test_prediction_and_inbetween_splits():
    filler = PromptFiller(VOC)
    codes = list(range(100, 120))
    head = parse_motion(filler.fill("<Motion_Placeholder_s1>", codes=codes), VOC).codes
    tail = parse_motion(filler.fill("<Motion_Placeholder_s2>", codes=codes), VOC).codes
    assert list(head) + list(tail) == codes and len(head) == 4
    masked = filler.fill("<Motion_Placeholder_Masked>", codes=codes)
    h, t = split_for_inbetween(20)
    assert (h, t) == (5, 15)
    assert masked.count(VOC.mask_token) == 10
    assert parse_motion(masked, VOC).codes.tolist() == codes[:5] + codes[15:]


def test_splits_keep_every_part_non_empty():
    for n in range(3, 60):
        h, t = split_for_inbetween(n)
        assert 1 <= h < t <= n - 1
        assert 1 <= split_for_prediction(n) <= n - 1
    with pytest.raises(ValueError):
        split_for_inbetween(2)


def test_missing_sample_parts_raise():
    filler = PromptFiller(VOC)
    with pytest.raises(ValueError, match="needs a motion"):
        filler.fill("Describe <Motion_Placeholder>", caption="x")
    with pytest.raises(ValueError, match="needs a length"):
        filler.fill("<Frame_Placeholder>", caption="x")


def test_reference_structure_loads_and_bad_files_raise(tmp_path):
    reference_like = {"Motion-to-Motion": {"motion_prediction": {
        "class": "predict", "input": ["Predict motion: <Motion_Placeholder_s1>"],
        "output": ["<Motion_Placeholder_s2>"]}}}
    good = tmp_path / "template_pretrain.json"
    good.write_text(json.dumps(reference_like))
    [task] = load_templates(good)
    assert task.task_class == "predict" and task.key == "Motion-to-Motion/motion_prediction"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TemplateError, match="bad.json"):
        load_templates(bad)
    bad.write_text(json.dumps({"G": {"t": {"class": "t2m", "input": []}}}))
    with pytest.raises(TemplateError, match="G/t"):
        load_templates(bad)
    with pytest.raises(TemplateError, match="not found"):
        load_templates(tmp_path / "missing.json")
