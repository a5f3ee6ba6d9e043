import logging

import numpy as np
import pytest

from motiongpt.lm.vocabulary import MOTION_PLACEHOLDER, MotionVocabulary, NoMotionError, parse_motion

VOC = MotionVocabulary(512)


def test_token_layout_matches_reference():
    assert VOC.size == 515
    assert VOC.start_token == "<motion_id_512>"
    assert VOC.end_token == "<motion_id_513>"
    assert VOC.mask_token == "<motion_id_514>"
    assert VOC.tokens()[0] == "<motion_id_0>" and VOC.tokens()[-1] == "<motion_id_514>"


def test_codes_to_string_exact_format():
    assert VOC.codes_to_string([37, 401]) == "<motion_id_512><motion_id_37><motion_id_401><motion_id_513>"


def test_codes_to_string_rejects_out_of_range_and_non_integers():
    with pytest.raises(ValueError, match="512"):
        VOC.codes_to_string([3, 512])
    with pytest.raises(ValueError, match="integers"):
        VOC.codes_to_string([1.5])
    with pytest.raises(ValueError, match="1-D"):
        VOC.codes_to_string([[1, 2]])


def test_round_trip_and_cleaned_text():
    codes = np.array([5, 0, 511, 7])
    parsed = parse_motion("here it is " + VOC.codes_to_string(codes) + " done", VOC)
    np.testing.assert_array_equal(parsed.codes, codes)
    assert parsed.text == f"here it is {MOTION_PLACEHOLDER} done"
    assert parsed.warnings == []


def test_first_span_only():
    text = VOC.codes_to_string([1, 2]) + VOC.codes_to_string([9, 9, 9])
    np.testing.assert_array_equal(parse_motion(text, VOC).codes, [1, 2])


def test_out_of_codebook_ids_and_stray_text_dropped_with_warning(caplog):
    text = "<motion_id_512><motion_id_3>oops<motion_id_514><motion_id_900><motion_id_4><motion_id_513>"
    with caplog.at_level(logging.WARNING):
        parsed = parse_motion(text, VOC)
    np.testing.assert_array_equal(parsed.codes, [3, 4])
    assert any("outside the codebook" in w for w in parsed.warnings)
    assert any("stray text" in w for w in parsed.warnings)
    assert "outside the codebook" in caplog.text


def test_missing_end_takes_rest_with_warning():
    parsed = parse_motion("<motion_id_512><motion_id_3><motion_id_4>", VOC)
    np.testing.assert_array_equal(parsed.codes, [3, 4])
    assert any("no end-of-motion" in w for w in parsed.warnings)


def test_missing_start_uses_first_motion_token():
    parsed = parse_motion("text <motion_id_8><motion_id_9><motion_id_513> after", VOC)
    np.testing.assert_array_equal(parsed.codes, [8, 9])
    assert parsed.text == f"text {MOTION_PLACEHOLDER} after"


@pytest.mark.parametrize("text", ["a person walks", "<motion_id_512><motion_id_513>",
                                  "<motion_id_512>junk<motion_id_514><motion_id_513>", ""])
def test_no_usable_motion_is_an_error(text):
    with pytest.raises(NoMotionError):
        parse_motion(text, VOC)
    assert issubclass(NoMotionError, ValueError)


def test_small_codebook_drops_ids_beyond_it():
    small = MotionVocabulary(16)
    parsed = parse_motion("<motion_id_16><motion_id_15><motion_id_20><motion_id_17>", small)
    np.testing.assert_array_equal(parsed.codes, [15])


def test_codes_are_read_from_token_ids_between_start_and_end():
    from motiongpt.lm.vocabulary import MotionVocabulary, NoMotionError, codes_from_ids

    vocabulary = MotionVocabulary(16)
    first = 100  # id of <motion_id_0>
    start, end = first + vocabulary.start_index, first + vocabulary.end_index
    ids = [0, 5, start, first + 3, first + 0, first + 15, end, 1, 0, 0]
    np.testing.assert_array_equal(codes_from_ids(ids, first, vocabulary), [3, 0, 15])
    for bad, reason in (([0, first + 3, end], "no start"), ([start, first + 3], "no end"),
                        ([start, end], "outside the codebook or none"),
                        ([start, first + 3, first + vocabulary.mask_index, end], "outside the codebook")):
        with pytest.raises(NoMotionError, match=reason):
            codes_from_ids(bad, first, vocabulary)
