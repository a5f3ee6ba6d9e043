"""The MotionGPT API on a tiny untrained model: shapes, durations, joins, batching, errors, save/load."""
import numpy as np
import pytest

from motiongpt.lm.api import MotionGPT
from motiongpt.lm.commands import split_command
from motiongpt.lm.model import ModelLoadError


def walking_joints(frames=41):
    from motiongpt.skeleton import RAW_OFFSETS, PARENTS, TARGET_BONE_LENGTHS
    rest = np.zeros((22, 3))
    for joint in range(1, 22):
        rest[joint] = rest[PARENTS[joint]] + RAW_OFFSETS[joint] * TARGET_BONE_LENGTHS[joint]
    rest[:, 1] -= rest[:, 1].min()
    t = np.arange(frames)[:, None, None]
    joints = rest[None] + np.array([0.0, 0.0, 0.05]) * t
    joints[:, 20:22, 1] += 0.1 * np.sin(t[:, :, 0] / 3.0)
    return joints.astype(np.float32)


def test_text_to_motion_with_duration(tiny_motiongpt):
    result = tiny_motiongpt.text_to_motion("a person walks forward", seconds=2.0, seed=0)
    assert result.joints.shape == (40, 22, 3) and result.features.shape == (40, 263)
    assert result.codes.shape == (10,) and np.isfinite(result.joints).all()
    assert result.seconds == pytest.approx(2.0)
    assert "40 frames" in result.prompt


def test_a_length_said_in_the_request_is_the_motions_length(tiny_motiongpt):
    """"for 2 seconds" / "for 20 frames" fix the length (the words themselves are not given to the model); the
    length a request says wins over ``seconds``, which the others get; a said length the model cannot generate is
    refused, naming the request."""
    said = tiny_motiongpt.text_to_motion("a person walks forward for 2 seconds", seed=0)
    assert said.joints.shape == (40, 22, 3) and said.prompt.endswith("40 frames: a person walks forward")
    frames, plain = tiny_motiongpt.text_to_motion(["a person walks for 20 frames", "a person walks"], seconds=2.0,
                                                  seed=0)
    assert frames.joints.shape == (20, 22, 3) and plain.joints.shape == (40, 22, 3)
    with pytest.raises(ValueError, match=r"'a person walks for 30 seconds' asks for 30 s: this model generates at "
                                         r"most \d+ codes"):
        tiny_motiongpt.text_to_motion("a person walks for 30 seconds")
    with pytest.raises(ValueError, match=r"'a person walks for 0 seconds': the length it says must be a positive"):
        tiny_motiongpt.text_to_motion("a person walks for 0 seconds")
    command = tiny_motiongpt.command("walk forward for 1.6 seconds, then wave", seconds_per_step=0.8, seed=0)
    (_, first, end), (_, second, last) = command.steps
    assert (end - first, last - second) == (32, 16)


def test_text_to_motion_batch_and_seed(tiny_motiongpt):
    a = tiny_motiongpt.text_to_motion(["a person walks", "someone jumps"], seed=3)
    b = tiny_motiongpt.text_to_motion(["a person walks", "someone jumps"], seed=3)
    assert len(a) == 2
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.codes, y.codes)
        assert 1 <= x.codes.size <= tiny_motiongpt.max_codes
        assert x.joints.shape == (4 * x.codes.size, 22, 3)


def test_motion_to_text_returns_text_without_motion_tokens(tiny_motiongpt):
    caption = tiny_motiongpt.motion_to_text(walking_joints())
    assert isinstance(caption, str) and "<motion_id" not in caption
    assert len(tiny_motiongpt.motion_to_text([walking_joints(), walking_joints(45)])) == 2


def test_predict_keeps_given_codes_and_adds_requested_time(tiny_motiongpt):
    given = walking_joints(41)
    given_codes = tiny_motiongpt.encode(given)
    result = tiny_motiongpt.predict(given, seconds=3.2, seed=1)  # 16 codes > max_codes: two rounds
    np.testing.assert_array_equal(result.codes[:given_codes.size], given_codes)
    assert result.codes.size == given_codes.size + 16
    assert result.segment == (4 * given_codes.size, 4 * result.codes.size)
    start = result.segment[0]
    assert result.joints.shape == (4 * result.codes.size, 22, 3)
    # the given motion is kept as given and the continuation starts where it ends (no jump)
    np.testing.assert_allclose(result.joints[:start], given[:start], atol=1e-5)
    step = np.linalg.norm(result.joints[start, 0, [0, 2]] - given[start - 1, 0, [0, 2]])
    assert step < 0.5


def test_inbetween_joins_both_motions(tiny_motiongpt):
    before, after = walking_joints(41), walking_joints(33)
    after[..., 2] += 3.0  # the second motion starts 3 m further on
    result = tiny_motiongpt.inbetween(before, after, seconds=1.0, seed=2)
    n_before, n_after = tiny_motiongpt.encode(before).size, tiny_motiongpt.encode(after).size
    assert result.codes.size == n_before + 5 + n_after
    np.testing.assert_array_equal(result.codes[:n_before], tiny_motiongpt.encode(before))
    np.testing.assert_array_equal(result.codes[-n_after:], tiny_motiongpt.encode(after))
    assert result.segment == (4 * n_before, 4 * (n_before + 5))
    start, stop = result.segment
    np.testing.assert_allclose(result.joints[:start], before[:start], atol=1e-5)
    np.testing.assert_allclose(result.joints[stop:], after[:4 * n_after], atol=1e-5)
    # the joins are continuous: the gap's first and last frames are close to their neighbours
    assert np.abs(result.joints[start] - before[start - 1]).max() < 0.5
    assert np.abs(result.joints[stop - 1] - after[0]).max() < 0.5


def test_multi_step_command_is_one_continuous_motion(tiny_motiongpt):
    result = tiny_motiongpt.command("walk forward, then turn left, then wave", seconds_per_step=1.2,
                                    transition_seconds=0.8, seed=0)
    assert [s[0] for s in result.steps] == ["walk forward", "turn left", "wave"]
    # 3 steps of 6 codes joined by 2 transitions of 4 codes
    assert result.codes.size == 3 * 6 + 2 * 4
    assert result.joints.shape == (4 * result.codes.size, 22, 3)
    assert result.steps[1][1] == 4 * (6 + 4) and result.steps[2][2] == result.joints.shape[0]


def test_command_steps_of_the_models_length_within_a_bound(tiny_motiongpt):
    text = "walk forward, then turn left, then wave"
    free = tiny_motiongpt.command(text, seed=0)
    bounded = tiny_motiongpt.command(text, max_seconds_per_step=0.8, seed=0)  # 4 codes (16 frames) per step
    lengths = lambda result: [end - first for _, first, end in result.steps]
    assert max(lengths(free)) > 16  # the tiny model's own lengths go past the bound (up to its 12 codes)
    assert all(1 <= n // 4 <= 4 for n in lengths(bounded))
    with pytest.raises(ValueError, match="not both"):
        tiny_motiongpt.command(text, seconds_per_step=1.2, max_seconds_per_step=0.8)


@pytest.mark.parametrize("text, steps", [
    ("walk forward, then turn left, then wave", ["walk forward", "turn left", "wave"]),
    ("First jump. After that, kick and then punch", ["jump", "kick", "punch"]),
    ("turn left and right", ["turn left and right"]),
    ("run; crawl followed by roll", ["run", "crawl", "roll"]),
    ("Hey robot, please walk forward", ["walk forward"]),
    ("hey robot, could you please walk forward and then wave with your right hand",
     ["walk forward", "wave with your right hand"]),
    ("run, jump, kick", ["run", "jump", "kick"]),
    ("walk forward and wave", ["walk forward", "wave"]),
    ("wave with both hands, slowly", ["wave with both hands, slowly"]),
    ("please sit down for me, thanks", ["sit down"]),
    ("I'd like you to take a bow", ["take a bow"]),
    ("step to the left and back", ["step to the left and back"]),
])
def test_split_command(text, steps):
    assert split_command(text) == steps


def test_bad_inputs_raise_value_errors(tiny_motiongpt):
    with pytest.raises(ValueError, match="non-empty"):
        tiny_motiongpt.text_to_motion("  ")
    with pytest.raises(ValueError, match="positive"):
        tiny_motiongpt.text_to_motion("walk", seconds=-1)
    bad = walking_joints()
    bad[3, 2, 1] = np.nan
    with pytest.raises(ValueError):
        tiny_motiongpt.motion_to_text(bad)
    with pytest.raises(ValueError, match="shape"):
        tiny_motiongpt.predict(np.zeros((10, 5)), seconds=1)
    with pytest.raises(ValueError):
        split_command("")


def test_save_and_load_folder(tiny_motiongpt, tmp_path):
    tiny_motiongpt.save_pretrained(tmp_path / "model")
    loaded = MotionGPT.from_pretrained(tmp_path / "model")
    a = tiny_motiongpt.text_to_motion("a person walks", seconds=1.0, greedy=True)
    b = loaded.text_to_motion("a person walks", seconds=1.0, greedy=True)
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_allclose(a.joints, b.joints, atol=1e-5)
    with pytest.raises(ModelLoadError, match="motiongpt.yaml"):
        MotionGPT.from_pretrained(tmp_path)


def test_rigid_placement_maps_source_pose_onto_target():
    from motiongpt.features import facing_yaw
    from motiongpt.lm.api import rigid_placement
    motion = walking_joints(10).astype(np.float64)
    angle = 1.1
    rotation = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    target = motion[4] @ rotation.T + np.array([2.0, 0.0, -1.0])
    placed = rigid_placement(motion, motion[4], target)
    np.testing.assert_allclose(placed[4], target, atol=1e-9)
    assert facing_yaw(placed[7]) == pytest.approx(facing_yaw(motion[7]) + angle)
    np.testing.assert_allclose(placed[..., 1], motion[..., 1])  # heights kept


def test_inbetween_candidates_keep_layout_and_validate(tiny_motiongpt):
    before, after = walking_joints(41), walking_joints(33)
    one = tiny_motiongpt.inbetween(before, after, seconds=1.0, seed=4, candidates=1)
    many = tiny_motiongpt.inbetween(before, after, seconds=1.0, seed=4, candidates=6)
    assert many.joints.shape == one.joints.shape and many.segment == one.segment
    np.testing.assert_allclose(many.joints[:many.segment[0]], before[:many.segment[0]], atol=1e-5)
    with pytest.raises(ValueError, match="candidates"):
        tiny_motiongpt.inbetween(before, after, seconds=1.0, candidates=0)


@pytest.mark.parametrize("step, caption", [
    ("turn left", "a person turns left"), ("turns left", "a person turns left"),
    ("punch", "a person punches"), ("do a cartwheel", "a person does a cartwheel"),
    ("someone jumps", "someone jumps"), ("The man waves", "The man waves"), ("carry a box", "a person carries a box"),
    ("go forward", "a person goes forward"), ("wave your right hand", "a person waves their right hand"),
    ("Robot, please bow", "a person bows"),
])
def test_steps_become_captions(step, caption):
    from motiongpt.lm.commands import as_caption
    assert as_caption(step) == caption


def test_work_per_request_is_bounded(tiny_motiongpt):
    longest = tiny_motiongpt.max_codes * 4 / 20.0
    assert tiny_motiongpt.text_to_motion("a person walks", seconds=longest, seed=0).codes.size == tiny_motiongpt.max_codes
    with pytest.raises(ValueError, match="at most"):
        tiny_motiongpt.text_to_motion("a person walks", seconds=1000)
    with pytest.raises(ValueError, match="more than 8"):
        tiny_motiongpt.command("; ".join(["wave"] * 9))
