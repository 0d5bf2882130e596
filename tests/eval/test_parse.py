"""Answer parsers: table-driven, expected values computed by hand.

``FAIL`` marks a case that must be a ParseFailure (optionally with a word its reason holds).
"""

from __future__ import annotations

import math

import pytest

from spatialforge.eval.parse import (
    ParseFailure,
    extract_answer,
    has_think_answer_format,
    is_failure,
    parse_box2d,
    parse_box3d,
    parse_choice,
    parse_clock_direction,
    parse_count,
    parse_label,
    parse_length,
    parse_order,
    parse_point2d,
    parse_point3d,
    parse_vector3d,
    parse_yes_no,
    unit_asked,
    words_to_number,
)
from spatialforge.mirror import mirror_hour


class FAIL:
    def __init__(self, reason_has: str = ""):
        self.reason_has = reason_has

    def __repr__(self) -> str:
        return f"FAIL({self.reason_has!r})"


def check(got, expected, tol=1e-9):
    if isinstance(expected, FAIL):
        assert isinstance(got, ParseFailure), f"expected a failure, got {got!r}"
        assert expected.reason_has in got.reason, f"reason {got.reason!r} lacks {expected.reason_has!r}"
        assert not got and is_failure(got)
    elif isinstance(expected, float):
        assert not isinstance(got, ParseFailure), got
        assert got == pytest.approx(expected, rel=tol, abs=tol)
    elif isinstance(expected, tuple) and expected and isinstance(expected[0], float):
        assert not isinstance(got, ParseFailure), got
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    else:
        assert got == expected and type(got) is type(expected), f"{got!r} != {expected!r}"


FT, IN = 0.3048, 0.0254

LENGTH = [  # (text, default_unit, metres)
    ("3.5 m", None, 3.5),
    ("350 cm", None, 3.5),
    ("1,200 mm", None, 1.2),
    (".5 m", None, 0.5),
    ("5'6\"", None, 5 * FT + 6 * IN),
    ("5 ft 6 in", None, 5 * FT + 6 * IN),
    ("5 feet 6 inches", None, 5 * FT + 6 * IN),
    ("5 feet and 6 inches", None, 5 * FT + 6 * IN),
    ("5 foot 6", None, 5 * FT + 6 * IN),
    ("5’6”", None, 5 * FT + 6 * IN),
    ("3-4 feet", None, 3.5 * FT),
    ("3 to 4 feet", None, 3.5 * FT),
    ("3–4 ft", None, 3.5 * FT),
    ("between 3 and 4 feet", None, 3.5 * FT),
    ("3 m to 4 m", None, 3.5),
    ("two meters", None, 2.0),
    ("one and a half feet", None, 1.5 * FT),
    ("a foot and a half", None, 1.5 * FT),
    ("1 and a half meters", None, 1.5),
    ("twenty-five centimeters", None, 0.25),
    ("twenty five centimetres", None, 0.25),
    ("2 metres", None, 2.0),
    ("1 m 20 cm", None, 1.2),
    ("1,5 m", None, 1.5),
    (r"\scalar{3.5} \distance_unit{feet}", None, 3.5 * FT),
    ("about 2.1 km", None, 2100.0),
    ("It is 2 in.", None, 2 * IN),
    ("2 yards", None, 2 * 0.9144),
    ("roughly 4.5 inches", None, 4.5 * IN),
    ("10 ft. away", None, 10 * FT),
    ("3m", None, 3.0),
    ("a 2-meter gap", None, 2.0),
    ("half a meter", None, 0.5),
    ("two point five meters", None, 2.5),
    ("a hundred centimeters", None, 1.0),
    ("between two and three meters", None, 2.5),
    ("three quarters of a meter", None, 0.75),
    ("The gap is about 6\".", None, 6 * IN),
    # several lengths: the one stated as the answer
    ("The distance is 3 m, since the table is 2 m", None, 3.0),
    ("The table is 2 m wide and the chair is 1 m, so the distance is 3 m", None, 3.0),
    ("2 m (about 6.6 feet)", None, 2.0),
    ("1 m (100 cm)", None, 1.0),
    ("2 m, 3 m", None, FAIL("none is marked")),
    # units
    ("3 parsecs", None, FAIL("unknown unit 'parsecs'")),
    ("5 blorps", None, FAIL("unknown unit 'blorps'")),
    ("5 blorps", "m", FAIL("blorps")),
    ("3", None, FAIL("has no unit")),
    ("3", "m", 3.0),
    ("150", "cm", 1.5),
    ("two", "cm", 0.02),
    ("It is 3 in the box", None, FAIL("no unit")),
    ('The answer is "3"', None, FAIL("no unit")),
    ("3 m²", None, FAIL()),
    ("the chair is far away", None, FAIL("no length")),
    ("", None, FAIL("empty")),
    ("   ", None, FAIL("empty")),
    (None, None, FAIL("None")),
    (3.5, None, FAIL("not text")),
]


@pytest.mark.parametrize("text,default_unit,expected", LENGTH)
def test_parse_length(text, default_unit, expected):
    check(parse_length(text, default_unit=default_unit), expected)


YES_NO = [
    ("Yes", True), ("no.", False), ("True", True), ("False", False), ("Correct.", True), ("Incorrect", False),
    ("Yes, the cup is on the left.", True), ("It is not on the left.", False), ("It's not.", False),
    ("It looks like the cup is not on the left", False), ("It appears to be on the left, not the right", True),
    ("It is definitely on the left", True), ("Probably not", False), ("I don't think so", False),
    ("I don’t think so", False), ("Definitely not.", False), ("Indeed.", True), ("Unlikely", False),
    ("Yes it is. No, wait", True), ("not sure", FAIL("undecided")), ("I'm not sure.", FAIL("undecided")),
    ("maybe", FAIL("undecided")), ("Cannot be determined from the image", FAIL("undecided")),
    ("The cup is on the left", FAIL("no yes/no")), ("", FAIL("empty")), (None, FAIL("None")),
]


@pytest.mark.parametrize("text,expected", YES_NO)
def test_parse_yes_no(text, expected):
    check(parse_yes_no(text), expected)


OPTS = ("chair", "table", "red chair", "lamp")
CHOICE = [  # (text, options, expected letter)
    ("The answer is (B)", None, "B"),
    ("The answer is (B).", OPTS, "B"),
    ("B.", OPTS, "B"),
    ("(b)", OPTS, "B"),
    ("b", OPTS, "B"),
    ("Option b", OPTS, "B"),
    ("B) chair", OPTS, "B"),
    ("**B**", OPTS, "B"),
    ("Answer: D", OPTS, "D"),
    ("The correct option is C: red chair", OPTS, "C"),
    ("I would pick option (C).", OPTS, "C"),
    ("The answer is B, not A", OPTS, "B"),
    ("The answer is A because it is closer", OPTS, "A"),
    ("I think C is right", OPTS, "C"),
    ("A", OPTS, "A"),
    ("red chair", OPTS, "C"),
    ("The red chair.", OPTS, "C"),
    ("the lamp", OPTS, "D"),
    ("The answer is a chair", OPTS, "A"),  # article, then the option text "chair"
    ("A or B", OPTS, FAIL("ambiguous")),
    ("The answer is A or B", OPTS, FAIL("ambiguous")),
    ("chair or table", OPTS, FAIL("several options")),
    ("(E)", OPTS, FAIL("not an option")),
    ("E", OPTS, FAIL("not an option")),
    ("i.e. the lamp", OPTS, "D"),  # not the letter I
    ("I think the lamp", OPTS, "D"),
    ("Option E", OPTS, FAIL("not an option")),
    ("A chair is closest", None, FAIL("no option letter")),
    ("Neither of them", OPTS, FAIL("no option")),
    ("", OPTS, FAIL("empty")),
    (None, OPTS, FAIL("None")),
]


@pytest.mark.parametrize("text,options,expected", CHOICE)
def test_parse_choice(text, options, expected):
    check(parse_choice(text, options), expected)


def test_parse_choice_letters_argument():
    check(parse_choice("(E)", letters="ABCDE"), "E")
    check(parse_choice("The answer is (B)"), "B")  # never the T of "The"


COUNT = [
    ("3", 3), ("three", 3), ("There are 3 chairs.", 3), ("twenty-one", 21), ("one hundred and five", 105),
    ("none", 0), ("There are no chairs", 0), ("No, there are 2", 2), ("In total, 5", 5), ("1,200", 1200),
    ("I count 2 chairs and 3 tables", FAIL("none is marked")), ("2.5", FAIL("whole number")),
    ("several", FAIL("no count")), ("", FAIL("empty")),
]


@pytest.mark.parametrize("text,expected", COUNT)
def test_parse_count(text, expected):
    check(parse_count(text), expected)


LR = ("left", "right")
LABEL = [  # (text, vocabulary, expected)
    ("left", LR, "left"), ("Left.", LR, "left"), ("On the left side", LR, "left"),
    ("to the right of the table", LR, "right"), ("It is on the right-hand side", LR, "right"),
    ("not on the left but on the right", LR, "right"), ("leftward", LR, "left"),
    ("the lamp is nearer", ("closer", "farther"), "closer"), ("further away", ("closer", "farther"), "farther"),
    ("It faces to the left", ("facing left", "facing right"), "facing left"),
    ("perpendicular", ("similar", "orthogonal", "opposite"), "orthogonal"),
    ("underneath the shelf", ("above", "below"), "below"),
    ("facing the camera", ("toward", "away"), "toward"),  # the generator's text for "toward"
    ("facing away from the camera", ("toward", "away"), "away"),
    ("it is not facing the camera", ("toward", "away"), FAIL("no label")),
    ("in the middle", LR, FAIL("no label")),
    ("Left and right", LR, FAIL("none is marked")),
]


@pytest.mark.parametrize("text,vocab,expected", LABEL)
def test_parse_label(text, vocab, expected):
    check(parse_label(text, vocab), expected)


ITEMS = ("the table", "the red chair", "the lamp")
ORDER = [
    ("lamp, then the table, then the red chair", ITEMS, ("the lamp", "the table", "the red chair")),
    ("The Red Chair < the table < lamp", ITEMS, ("the red chair", "the table", "the lamp")),
    ("red chair, chair", ("chair", "red chair"), ("red chair", "chair")),
    ("lamp then table", ITEMS, FAIL("'the red chair'")),
]


@pytest.mark.parametrize("text,items,expected", ORDER)
def test_parse_order(text, items, expected):
    check(parse_order(text, items), expected)


CLOCK = [
    ("at 3 o'clock", 3), ("three o’clock", 3), ("12 o clock", 12), ("3:00", 3), ("9", 9),
    ("Around 10 o'clock direction", 10), ("at 13 o'clock", FAIL("not a clock")), ("to the left", FAIL()),
]


@pytest.mark.parametrize("text,expected", CLOCK)
def test_parse_clock_direction(text, expected):
    check(parse_clock_direction(text), expected)


@pytest.mark.parametrize("hour,mirrored", [(3, 9), (9, 3), (12, 12), (6, 6), (1, 11), (11, 1)])
def test_mirror_hour(hour, mirrored):
    assert mirror_hour(hour) == mirrored


WH = (640, 480)
BOX2D = [  # (text, image_size, scale, expected pixels)
    ("[10, 20, 110, 220]", None, "auto", (10.0, 20.0, 110.0, 220.0)),
    ('{"bbox_2d": [10, 20, 110, 220], "label": "cup"}', None, "auto", (10.0, 20.0, 110.0, 220.0)),
    ('```json\n[{"bbox_2d": [10, 20, 110, 220], "label": "cup"}]\n```', None, "auto", (10.0, 20.0, 110.0, 220.0)),
    ("The box is (10, 20), (110, 220)", None, "auto", (10.0, 20.0, 110.0, 220.0)),
    ("x0=10, y0=20, x1=110, y1=220", None, "auto", (10.0, 20.0, 110.0, 220.0)),
    ("[110, 220, 10, 20]", None, "auto", (10.0, 20.0, 110.0, 220.0)),  # corners sorted
    ("[0.1, 0.2, 0.5, 0.6]", WH, "auto", (64.0, 96.0, 320.0, 288.0)),
    ("[100, 200, 300, 400]", WH, "thousand", (64.0, 96.0, 192.0, 192.0)),
    ("<|box_start|>(100,200),(300,400)<|box_end|>", WH, "auto", (64.0, 96.0, 192.0, 192.0)),
    ("<loc0256><loc0512><loc0768><loc1024> cup", WH, "auto", (320.0, 120.0, 640.0, 360.0)),  # y first, /1024
    ("[0.1, 0.2, 0.5, 0.6]", None, "auto", FAIL("image_size")),
    ("[1, 2, 3, 4] and [5, 6, 7, 8]", None, "auto", FAIL("none is marked")),
    ("[1, 2, 3]", None, "auto", FAIL("no box")),
    ("no box here", None, "auto", FAIL("no box")),
]


@pytest.mark.parametrize("text,size,scale,expected", BOX2D)
def test_parse_box2d(text, size, scale, expected):
    check(parse_box2d(text, image_size=size, scale=scale), expected)


POINT2D = [
    ("(120, 45)", None, (120.0, 45.0)), ("[0.5, 0.25]", WH, (320.0, 120.0)),
    ('<point x="50.0" y="25.0" alt="cup">cup</point>', WH, (320.0, 120.0)),
    ("x=120, y=45", None, (120.0, 45.0)), ('{"point_2d": [120, 45]}', None, (120.0, 45.0)),
    ("[0.5, 0.25]", None, FAIL("image_size")),
]


@pytest.mark.parametrize("text,size,expected", POINT2D)
def test_parse_point2d(text, size, expected):
    check(parse_point2d(text, image_size=size), expected)


POINT3D = [  # (text, default_unit, metres): a stated unit wins; default_unit only when none is stated
    ("(0.3, -0.1, 2.4)", "m", (0.3, -0.1, 2.4)), ("x=0.3 m, y=-0.1 m, z=2.4 m", "m", (0.3, -0.1, 2.4)),
    ("[30 cm, -10 cm, 2.4 m]", "m", (0.3, -0.1, 2.4)), ('{"x": 0.3, "y": -0.1, "z": 2.4}', "m", (0.3, -0.1, 2.4)),
    ("The point is at x: 0.3, y: -0.1", "m", FAIL("only x, y")), ("somewhere", "m", FAIL("no point")),
    # unit after the list: 27 in = 0.6858 m, 11 in = 0.2794 m, 114 in = 2.8956 m
    ("(27, 11, 114) inches", "m", (27 * IN, 11 * IN, 114 * IN)),
    ("(27, 11, 114) inches", "cm", (27 * IN, 11 * IN, 114 * IN)),  # stated beats default
    ("The cup is at [27, 11, 114] in.", "m", (27 * IN, 11 * IN, 114 * IN)),
    ("(0.9, -1.6, 17.8) ft", "m", (0.9 * FT, -1.6 * FT, 17.8 * FT)),
    ("(123, -74, 465) cm", "m", (1.23, -0.74, 4.65)),
    ("(27, 11, 114) in the camera frame", "cm", (0.27, 0.11, 1.14)),  # "in" the preposition: no unit stated
    ("in centimeters: (27, 11, 114)", "m", (0.27, 0.11, 1.14)),
    # units inside the list
    ("(0.3 m, -0.1 m, 2.4 m)", "cm", (0.3, -0.1, 2.4)),
    ('(27", 11", 114")', "m", (27 * IN, 11 * IN, 114 * IN)),
    ("(30, -10, 240 cm)", "m", (0.3, -0.1, 2.4)),  # the one unit stated applies to the bare numbers
    ("(0, -10 cm, 2.4 m)", "ft", (0.0, -0.1, 2.4)),  # zero needs no unit
    ("(30 cm, -10, 2.4 m)", "m", FAIL("different units")),  # -10 of which?
    ("(1 px, 2 px, 3 px)", "m", FAIL("not a length unit")),
    # keyed
    ("x=30 cm, y=-10 cm, z=240 cm", "m", (0.3, -0.1, 2.4)),
    ("x=30, y=-10, z=240 cm", "m", (0.3, -0.1, 2.4)),
    ("x = 1, y = 2, z = 3", "cm", (0.01, 0.02, 0.03)),
    # JSON: a "unit" key or unit strings; bare numbers take the default
    ('{"x": 30, "y": -10, "z": 240, "unit": "cm"}', "m", (0.3, -0.1, 2.4)),
    ('{"x": "30 cm", "y": "-10 cm", "z": "2.4 m"}', "m", (0.3, -0.1, 2.4)),
    ("[30, -10, 240]", "cm", (0.3, -0.1, 2.4)),
    ("(30, -10, 240)", "cm", (0.3, -0.1, 2.4)),
    ("(1, 2, 3)", "parsecs", FAIL("unknown default unit")),
]


@pytest.mark.parametrize("text,default_unit,expected", POINT3D)
def test_parse_point3d(text, default_unit, expected):
    check(parse_point3d(text, default_unit=default_unit), expected)


VECTOR3D = [  # a direction has no unit: numbers as written unless the components mix units
    ("[0.6, 0, -0.8]", (0.6, 0.0, -0.8)),
    ("(0.6, 0, -0.8) m", (0.6, 0.0, -0.8)),
    ("(0.6, 0, -0.8) inches", (0.6, 0.0, -0.8)),
    ("(0.6 ft, 0 ft, -0.8 ft)", (0.6, 0.0, -0.8)),
    ("[30 cm, 0, -0.8 m]", (0.3, 0.0, -0.8)),  # mixed: both in metres, so it points the way meant
    ("x=0.6, y=0, z=-0.8", (0.6, 0.0, -0.8)),
    ("(0, 0, 0)", FAIL("zero vector")),
    ("(30 cm, 5, 1 m)", FAIL("different units")),
]


@pytest.mark.parametrize("text,expected", VECTOR3D)
def test_parse_vector3d(text, expected):
    check(parse_vector3d(text), expected)


BOX3D = [
    ('{"center": [1, 2, 0.5], "size": [0.5, 1, 2], "yaw": 0.3}', ((1.0, 2.0, 0.5), (0.5, 1.0, 2.0), 0.3)),
    ("[1, 2, 0.5, 0.5, 1, 2, 0.3]", ((1.0, 2.0, 0.5), (0.5, 1.0, 2.0), 0.3)),
    ('{"bbox_3d": [1, 2, 0.5, 0.5, 1, 2]}', ((1.0, 2.0, 0.5), (0.5, 1.0, 2.0), 0.0)),
    ("center (1, 2, 0.5), size (50 cm, 1 m, 2 m), yaw 30°", ((1.0, 2.0, 0.5), (0.5, 1.0, 2.0), math.pi / 6)),
    ("[1, 2, 3, 0, 1, 1, 0]", FAIL("positive")),
    # the generator's form: unit after each list, size as "w x h x l", signed yaw in degrees
    ("center (-0.74, 0.74, 2.88) m, size 0.16 x 0.16 x 0.16 m (w x h x l), yaw 15°",
     ((-0.74, 0.74, 2.88), (0.16, 0.16, 0.16), math.radians(15))),
    ("center (2.1, -1.7, 7.8) ft, size 2.3 x 1.2 x 0.6 ft (w x h x l), yaw -84°",
     ((2.1 * FT, -1.7 * FT, 7.8 * FT), (2.3 * FT, 1.2 * FT, 0.6 * FT), math.radians(-84))),
    ("center (100, 200, 50) cm, size (50, 100, 200) cm, yaw: -0.5",
     ((1.0, 2.0, 0.5), (0.5, 1.0, 2.0), -0.5)),
    ("center (100, 200, 50) cm, size (50, 100, 200), yaw 0", ((1.0, 2.0, 0.5), (0.5, 1.0, 2.0), 0.0)),
    ("center (1, 2, 0.5), size (0.5, 1, 2), yaw ≈ -30°", ((1.0, 2.0, 0.5), (0.5, 1.0, 2.0), -math.pi / 6)),
    ("center (12, 8, 30) in, size 2 in x 3 in x 4 in, yaw 10 deg",
     ((12 * IN, 8 * IN, 30 * IN), (2 * IN, 3 * IN, 4 * IN), math.radians(10))),
    ("[100, 200, 50, 50, 100, 200, 30°] cm", ((1.0, 2.0, 0.5), (0.5, 1.0, 2.0), math.pi / 6)),
    ('{"center": [100, 200, 50], "size": [50, 100, 200], "yaw": "30°", "unit": "cm"}',
     ((1.0, 2.0, 0.5), (0.5, 1.0, 2.0), math.pi / 6)),
    ("center (1, 2, 0.5) m, size (50 cm, 1, 2 m), yaw 0", FAIL("different units")),
    ("[1, 2, 0.5, 0.5, 1, 2, 0.3 m]", FAIL("not an angle")),
]


@pytest.mark.parametrize("text,expected", BOX3D)
def test_parse_box3d(text, expected):
    got = parse_box3d(text)
    assert got == parse_box3d(text, default_unit="m")
    if isinstance(expected, FAIL):
        check(got, expected)
    else:
        assert got["center"] == pytest.approx(expected[0]) and got["size"] == pytest.approx(expected[1])
        assert got["yaw"] == pytest.approx(expected[2])


EXTRACT = [
    ("<think>hmm</think> <answer>3 m</answer>", "3 m"),
    ("<ANSWER> B </Answer>", "B"),
    ("<answer>a</answer> then <answer>b</answer>", "b"),  # the last complete span
    ("<think>x</think><answer>2 m", "2 m"),  # no closing tag
    ("The answer is (B).", "(B)."),
    ("Answer: 3 m\nbecause the table is 1 m", "3 m"),
    ("<think>it is on the left</think> The answer is yes", "yes"),
    (r"so the result is \boxed{4}", "4"),
    ("  plain text  ", "plain text"),
    ("<answer></answer>", FAIL("empty <answer>")),
    ("", FAIL("empty")),
    (None, FAIL("None")),
]


@pytest.mark.parametrize("text,expected", EXTRACT)
def test_extract_answer(text, expected):
    check(extract_answer(text), expected)


FORMAT = [
    ("<think>a</think> <answer>b</answer>", True),
    ("  <think>a</think>\n<answer>b</answer>\n", True),
    ("<think>a</think><answer>b</answer>x", False),
    ("x<think>a</think><answer>b</answer>", False),
    ("<think></think><answer>b</answer>", False),
    ("<think>a</think><answer> </answer>", False),
    ("<answer>b</answer><think>a</think>", False),
    ("<think>a</think><answer>b</answer><answer>c</answer>", False),
    ("<think>a<answer>x</answer></think><answer>b</answer>", False),
    ("<THINK>a</THINK><ANSWER>b</ANSWER>", False),
    ("<think>a</think>", False),
    (None, False),
]


@pytest.mark.parametrize("text,expected", FORMAT)
def test_has_think_answer_format(text, expected):
    assert has_think_answer_format(text) is expected


@pytest.mark.parametrize("words,value", [
    ("twenty-five", 25.0), ("one hundred and twenty", 120.0), ("a half", 0.5), ("two thirds", 2 / 3),
    ("three thousand two hundred", 3200.0), ("two three", None), ("twenty eleven", None), ("and", None),
])
def test_words_to_number(words, value):
    got = words_to_number(words)
    assert got == (pytest.approx(value) if value is not None else None)


@pytest.mark.parametrize("question,unit", [
    ("How far is the chair from the table in centimeters?", "centimeters"),
    ("How many meters apart are they?", "meters"), ("How far is the chair?", None), (None, None),
])
def test_unit_asked(question, unit):
    assert unit_asked(question) == unit


def test_box3d_default_unit_only_when_no_unit_is_stated():
    assert parse_box3d("[100, 200, 50, 50, 100, 200]", default_unit="cm")["size"] == pytest.approx((0.5, 1.0, 2.0))
    assert parse_box3d("[1, 2, 0.5, 0.5, 1, 2] m", default_unit="cm")["size"] == pytest.approx((0.5, 1.0, 2.0))
    check(parse_box3d("[1, 2, 0.5, 0.5, 1, 2]", default_unit="parsecs"), FAIL("unknown default unit"))


@pytest.mark.parametrize("text,metres", [
    (r"\scalar{3.5} \distance_unit{feet}", 3.5 * FT),
    (r"\scalar{1 - 2} \distance_unit{m}", 1.5),  # official: the mean of the numbers in the box
    (r"\scalar{3} then \scalar{4} \distance_unit{ft}", 4 * FT),  # official: the last box
    (r"\scalar{30} \distance_unit{furlongs}", FAIL("unknown unit")),
])
def test_length_reads_qspatial_markup_by_the_official_rule(text, metres):
    check(parse_length(text), metres)


def test_parse_yes_no_reads_every_svqa_r1_alias():
    from spatialforge.eval.tasktypes import NO_ALIASES, YES_ALIASES

    for alias in YES_ALIASES:
        assert parse_yes_no(alias) is True, alias
    for alias in NO_ALIASES:
        assert parse_yes_no(alias) is False, alias


def test_parse_failure_is_frozen_and_falsy():
    f = ParseFailure("x")
    assert not f and f.reason == "x"
    with pytest.raises(AttributeError):
        f.reason = "y"


def test_parser_case_count():
    n = sum(map(len, (LENGTH, YES_NO, CHOICE, COUNT, LABEL, ORDER, CLOCK, BOX2D, POINT2D, POINT3D, VECTOR3D,
                      BOX3D, EXTRACT, FORMAT)))
    assert n >= 60


def test_length_fast_paths_agree_with_the_general_parser():
    """The one-number fast paths must return exactly what the full parser returns."""
    import random

    from spatialforge.eval.parse_length import _parse_general

    rng = random.Random(0)
    prefixes = ["", "It is ", "The distance is approximately ", "about ", "Roughly ", "two to ", "-", "3 to ",
                "The chair, one of two, is ", "between ", "(", "x"]
    units = ["m", "cm", "meters", "metres", "ft", "feet", "in", "inches", "mm", "km", "yards", "blorps", "'"]
    suffixes = ["", ".", " away.", " and a half", " from the table", " (6 feet)", " or 4 m", ", about 3 ft",
                " in total"]
    for _ in range(3000):
        num = rng.choice(["2", "2.35", ".5", "1,200", "1,5", "12"])
        text = rng.choice(prefixes) + num + rng.choice(["", " "]) + rng.choice(units) + rng.choice(suffixes)
        fast, full = parse_length(text), _parse_general(text.strip(), None, True)
        if isinstance(full, ParseFailure):
            assert isinstance(fast, ParseFailure), text
        else:
            assert fast == pytest.approx(full), text
