"""spatialforge.mirror.rules: each rule rewrites exactly, each unsafe record is rejected with its reason."""

import pytest

from spatialforge.mirror.rules import REJECTIONS, mirror_record


def _m(q, a="", choices=(), **kw):
    return mirror_record(q, a, choices, **kw)


@pytest.mark.parametrize("q, a, mq, ma, rule", [
    ("Is the cup to the left of the plate?", "Yes, it is on the left.", "Is the cup to the right of the plate?",
     "Yes, it is on the right.", "side"),
    ("Which is the leftmost object?", "the Rightmost one", "Which is the rightmost object?", "the Leftmost one", "side"),
    ("Is the mug on your left?", "no", "Is the mug on your right?", "no", "side"),
    ("Is the lamp on the left side, in the top-left corner?", "yes", "Is the lamp on the right side, in the top-right corner?",
     "yes", "side"),
    ("Which way does it turn?", "counter-clockwise", "Which way does it turn?", "clockwise", "turn"),
    ("Does it rotate clockwise?", "yes", "Does it rotate counterclockwise?", "yes", "turn"),
    ("Is the stool on the left-hand side?", "LEFT", "Is the stool on the right-hand side?", "RIGHT", "side"),
    ("Where is the ball, at which o'clock?", "2 o'clock", "Where is the ball, at which o'clock?", "10 o'clock", "clock"),
    ("Is it at 12 o'clock or 6 o\u2019clock?", "3 o'clock", "Is it at 12 o'clock or 6 o\u2019clock?", "9 o'clock", "clock"),
    ("Where is the chair in camera coordinates?", "(-0.44, -0.03, 2.99) m", "Where is the chair in camera coordinates?",
     "(0.44, -0.03, 2.99) m", "point3d"),
    ("The box has yaw 38\u00b0 and heading -12 degrees.", "ok", "The box has yaw -38\u00b0 and heading 12 degrees.", "ok",
     "yaw"),
    ("What is the lateral offset of the cup?", "lateral offset: -0.3 m", "What is the lateral offset of the cup?",
     "lateral offset: 0.3 m", "offset"),
])
def test_exact_rules(q, a, mq, ma, rule):
    m = _m(q, a)
    assert (m.status, m.question, m.answer) == ("exact-rule", mq, ma)
    assert rule in m.rules
    back = _m(m.question, m.answer)  # every rule is an involution (up to the canonical spelling)
    assert back.answer.lower().replace("counter-clockwise", "counterclockwise") == a.lower().replace(
        "counter-clockwise", "counterclockwise")


def test_symmetric_disjunction_keeps_its_order_but_a_relation_swaps():
    m = _m("Relative to the sofa, is the chair on the left or on the right?", "to the right")
    assert m.question == "Relative to the sofa, is the chair on the left or on the right?" and m.answer == "to the left"
    assert _m("Is it left/right of the cup?", "left").question == "Is it left/right of the cup?"
    q = "Is the stool on its right-hand side or its left side?"
    assert _m(q, "on its right").question == q
    m = _m("Is the cup left of the plate and right of the bowl?", "yes")
    assert m.question == "Is the cup right of the plate and left of the bowl?"


def test_axis_conventions_are_not_facts():
    m = _m("Give the vector in the camera frame (x right, y down, z forward).", "(0.5, 0.1, 0.8)")
    assert "x right" in m.question and m.answer == "(-0.5, 0.1, 0.8)"
    m = _m("Using clock directions (12 = ahead, 3 = right), where is the cup?", "2 o'clock")
    assert "3 = right" in m.question and m.answer == "10 o'clock"


def test_zero_keeps_no_sign_and_a_box_yaw_of_90_stays():
    m = _m("Is the 3D box center (0.00, 1.0, 2.0) m with yaw 90\u00b0 in camera coordinates?", "No")
    assert "(0.00, 1.0, 2.0)" in m.question and "yaw 90\u00b0" in m.question


@pytest.mark.parametrize("coords2d, width, box, mirrored", [
    ("pixel", 640, "[10, 20, 110, 80]", "[530, 20, 630, 80]"),
    ("unit", None, "[0.10, 0.2, 0.25, 0.4]", "[0.75, 0.2, 0.90, 0.4]"),
    ("thousand", None, "(100, 200, 300, 400)", "(700, 200, 900, 400)"),
])
def test_boxes_in_each_convention(coords2d, width, box, mirrored):
    m = _m(f"Which object is in {box}?", "the cup", coords2d=coords2d, width=width)
    assert m.status == "exact-rule" and mirrored in m.question and "box2d" in m.rules


@pytest.mark.parametrize("coords2d, width, box, mirrored", [
    ("pixel", 640, "[10, 20, 100, 60]", "[530, 20, 100, 60]"),  # x -> W - x - w: the box spans 530..630
    ("unit", None, "[0.10, 0.2, 0.15, 0.4]", "[0.75, 0.2, 0.15, 0.4]"),
    ("thousand", None, "(100, 200, 200, 300)", "(700, 200, 200, 300)"),
])
def test_xywh_boxes_in_each_convention(coords2d, width, box, mirrored):
    m = _m(f"Which object is in {box}?", "the cup", coords2d=coords2d, width=width, box_format="xywh")
    assert m.status == "exact-rule" and mirrored in m.question and "box2d" in m.rules
    back = _m(m.question, "the cup", coords2d=coords2d, width=width, box_format="xywh")
    assert box in back.question  # an involution
    # the same text read as corners is another box: x0=10, x1=100 -> (540, 630)
    if coords2d == "pixel":
        assert "[540, 20, 630, 60]" in _m(f"Which object is in {box}?", coords2d="pixel", width=640).question


def test_xywh_boxes_that_do_not_fit_are_rejected():
    assert "x + w outside" in _m("In [600, 0, 100, 10]?", coords2d="pixel", width=640, box_format="xywh").reason
    assert "negative width" in _m("In [60, 0, -10, 10]?", coords2d="pixel", width=640, box_format="xywh").reason
    with pytest.raises(ValueError, match="box_format"):
        _m("In [1, 2, 3, 4]?", coords2d="unit", box_format="cxcywh")


def test_points_and_unsafe_coordinates():
    assert _m("Point at (0.25, 0.5).", "", coords2d="unit").question == "Point at (0.75, 0.5)."
    assert "unknown convention" in _m("Point at (0.25, 0.5).").reason
    assert "outside" in _m("Point at (1.5, 0.5).", coords2d="unit").reason
    assert "image width" in _m("Point at (15, 5).", coords2d="pixel").reason
    assert "camera frame" in _m("Where is it?", "(1.0, 2.0, 3.0)").reason
    assert _m("Where is it?", "(1.0, 2.0, 3.0)", points3d="camera").answer == "(-1.0, 2.0, 3.0)"
    assert "size" in _m("Its size (w, h, l) is (0.5, 0.3, 0.2) m in the camera frame.").reason
    assert "colour" in _m("Its RGB colour is (200, 10, 10).", points3d="camera").reason
    assert "list of 5" in _m("Values (1, 2, 3, 4, 5)?", points3d="camera").reason


def test_mcq_options_rewritten_in_place_letter_stays():
    q = "Where is the cup?\nA. to the left.\nB. to the right.\nAnswer with the option's letter."
    m = _m(q, "B", ("to the left", "to the right"))
    assert m.status == "exact-rule" and m.answer == "B" and m.choices == ("to the right", "to the left")
    assert m.question.startswith("Where is the cup?\nA. to the right.\nB. to the left.")


@pytest.mark.parametrize("q", ["How far is the cup from the plate?", "How many chairs are there?",
                               "Is the lamp above the table?", "Which is closer to the camera, the cup or the mug?",
                               "How tall is the shelf?"])
def test_mirror_invariant_records_are_unchanged(q):
    m = _m(q, "1.2 m")
    assert (m.status, m.question, m.answer, m.rules) == ("unchanged", q, "1.2 m", ())


@pytest.mark.parametrize("q, a, reason_word", [
    ("What does the sign say?", "STOP", "text in the image"),
    ("What is written on the board?", "hello", "text in the image"),
    ("Which brand is the laptop?", "Dell", "text in the image"),
    ("What letter is on the shirt?", "B", "text in the image"),
    ("Which hand holds the cup?", "the left", "handedness"),
    ("Is the woman left-handed?", "yes", "handedness"),
    ("What is on his right arm?", "a watch", "handedness"),
    ("Is the door to the east of the table?", "yes", "compass"),
    ("What time does the clock show?", "3 o'clock", "a clock in the image"),
    ("Is the chair right next to the table?", "yes", "'right' meaning"),
    ("Is that right?", "yes", "'right' meaning"),
    ("How many cookies are left over?", "3", "'left' meaning"),
    ("Is the cat visible in the mirror?", "yes", "mirroring"),
    ("Is it on stage left?", "yes", "named frame"),
    ("What is the x coordinate of the cup?", "120", "bare x coordinate"),
    ("With 12 o'clock ahead, in which clock direction is the cup?", "3", "without 'o'clock'"),
])
def test_unsafe_records_are_rejected_with_a_reason(q, a, reason_word):
    m = _m(q, a)
    assert m.status == "rejected" and reason_word in m.reason and m.question == ""


def test_left_hand_side_is_a_side_not_a_hand_and_mcq_letter_is_not_image_text():
    assert _m("Is it on the left-hand side?").status == "exact-rule"
    assert _m("Where is it?\nA. left.\nB. right.\nReply with the letter of the correct answer.").status == "exact-rule"


@pytest.mark.parametrize("q, a, mq, ma", [
    # gaps the paraphrase table revealed (benchmarks/mirror_paraphrases.py)
    ("Is the following right? The cup is left of the plate.", "Yes",
     "Is the following right? The cup is right of the plate.", "Yes"),  # 'right' = correct stays
    ("Which is the mug?\nA. the left one\nB. the right one\nWhich choice is right? Give its letter.", "A",
     "Which is the mug?\nA. the right one\nB. the left one\nWhich choice is right? Give its letter.", "A"),
    ("On a clock face (12 is straight ahead, 3 is right), where is the cup?", "2 o clock",
     "On a clock face (12 is straight ahead, 3 is right), where is the cup?", "10 o clock"),  # convention, "o clock"
    ("Say whether this holds: the cup is left of the plate.", "True",
     "Say whether this holds: the cup is right of the plate.", "True"),  # imperative 'say' is no image text
    ("In the camera frame, the cup is at x = -0.27, y = 0.1, z = 2 m.", "True",
     "In the camera frame, the cup is at x = 0.27, y = 0.1, z = 2 m.", "True"),  # x with its value, frame stated
    ("Is the cup's x-coordinate of 1.5 m in the camera's frame?", "no",
     "Is the cup's x-coordinate of -1.5 m in the camera's frame?", "no"),
])
def test_people_wordings(q, a, mq, ma):
    m = _m(q, a)
    assert (m.status, m.question, m.answer) == ("exact-rule", mq, ma)


@pytest.mark.parametrize("q, a, reason_word", [
    ("What is the x-coordinate of the cup in the camera frame?", "-0.27 m", "bare x coordinate"),  # answer is bare
    ("In the image, x = 120; is the cup there?", "yes", "bare x coordinate"),  # no frame stated
    ("What time does the clock face show?", "3", "a clock in the image"),
    ("What does the sign say?", "STOP", "text in the image"),
    ("Is the cup on the right? Say it.", "yes", "text in the image"),  # only 'say whether/if/which...' is exempt
])
def test_people_wordings_still_rejected(q, a, reason_word):
    m = _m(q, a)
    assert m.status == "rejected" and reason_word in m.reason


def test_every_rejection_reason_and_rule_is_documented():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    doc = " ".join((root / "docs" / "mirroring.md").read_text().split())
    for _, reason in REJECTIONS:
        assert reason in doc, reason
    src = (root / "src" / "spatialforge" / "mirror" / "rules.py").read_text()
    # coordinate reasons: the fixed text of each RuleReject message, up to its first placeholder
    for msg in re.findall(r'RuleReject\(f?"([^"]+)"', src):
        head = re.split(r"\{| \(", msg)[0].strip()
        assert head in doc, msg
    for name in set(re.findall(r'fired\.add\("(\w+)"|signed\("(\w+)"\)', src)) - {("", "")}:
        assert f"`{''.join(name)}`" in doc, name
    regions = (root / "src" / "spatialforge" / "mirror" / "regions.py").read_text()
    for msg in re.findall(r'DataError\(f?"([^"]+)"', regions):
        head = re.split(r"\{|:|, got", msg)[0].strip()
        assert head in doc, msg
