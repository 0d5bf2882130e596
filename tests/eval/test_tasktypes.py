"""Task typing by the SVQA-R1 Appendix B keyword lists."""

from __future__ import annotations

import pytest

from spatialforge.eval import tasktypes as T


def test_lists_are_the_papers():
    assert T.BBOX_KEYWORDS == ("bounding box", "box coordinates", "coordinates", "bbox", "where is", "x coordinate",
                               "y coordinate", "draw a box", "top left", "bottom right", "region of")
    assert T.YES_ALIASES == ("yes", "it is", "appears to be", "looks like", "seems like", "definitely", "likely",
                             "indeed")
    assert T.NO_ALIASES == ("no", "not", "doesn’t", "isn’t", "unlikely", "I don’t think", "probably not")
    assert len(T.DISTANCE_KEYWORDS) == 13 and T.DISTANCE_KEYWORDS[0] == "how far"
    assert T.DISTANCE_KEYWORDS[-1] == "gap between" and "which is farther" in T.DISTANCE_KEYWORDS
    assert len(T.COT_KEYWORDS) == 41 and T.COT_KEYWORDS[-1] == "consider that"


@pytest.mark.parametrize("question,answer,expected", [
    ("Where is the cup?", "[1, 2, 3, 4]", "bbox"),
    ("Give the bounding box of the lamp.", "[0.1, 0.2, 0.3, 0.4]", "bbox"),
    ("Is the chair closer than the lamp?", "Yes, it is.", "yesno"),  # yes/no before distance
    ("Does the cup look red?", "It isn't red.", "yesno"),
    ("How far is the chair from the lamp?", "It is 2 meters away.", "distance"),  # "it is" but not polar
    ("What is the distance between the sofa and the table?", "1.5 m", "distance"),
    ("Which is closer, the chair or the lamp?", "The chair.", "distance"),
    ("What color is the cup?", "Red", None),
    ("Furthermore, what is on the shelf?", "A book", None),  # "further" only as a word
    ("Is the sky blue?", "Blue", None),  # polar, but no alias in the answer
])
def test_task_type(question, answer, expected):
    assert T.task_type(question, answer) == expected


def test_yes_no_without_question_uses_answer_start():
    assert T.is_yes_no(None, "No, it is on the right")
    assert not T.is_yes_no(None, "The cup is not red")


def test_cot_keyword_stats():
    stats = T.cot_keyword_stats(["First, I think it is likely 2 m. Therefore the answer is 2 m.", "So be it"])
    # first, I think, likely, therefore | so
    assert stats["n_responses"] == 2 and stats["mean_per_response"] == 2.5 and stats["share_with_any"] == 1.0
    assert stats["counts"]["therefore"] == 1 and stats["counts"]["so"] == 1
    assert T.cot_keyword_counts("I’m not sure, let's say 3")["I’m not sure"] == 1
