"""Rule rewriting of a spatial QA record for the horizontally flipped image (no LLM).

:func:`mirror_record` rewrites question, answer and MCQ options with exact maps only:

- side words in every form (left/right, leftmost, leftward(s), left-hand, top-left, on your
  left, its left side ...) and turning senses (clockwise <-> counterclockwise); a symmetric
  disjunction ("on the left or on the right") keeps its order;
- clock hours ``h o'clock -> 12 - h`` (:func:`~spatialforge.mirror.coords.mirror_hour`);
- numeric tuples: 3 numbers are a camera-frame point or vector (``x -> -x``; only where the
  record states the camera frame, or always with ``points3d="camera"``), 2 numbers an image
  point and 4 an image box, ``(x0, y0, x1, y1)`` or ``(x, y, w, h)`` (``box_format``), in
  the dataset's ``coords2d`` convention
  (``pixel`` with the image width, ``unit`` 0-1, ``thousand`` 0-1000);
- yaw angles and signed lateral offsets are negated.

MCQ letters never move: each option is rewritten in place, so the right letter stays right.
A record the rules cannot prove safe is ``rejected`` with one of the reasons of
:data:`REJECTIONS` (or a coordinate reason); nothing is guessed.  The full rule list is in
docs/mirroring.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from ..errors import ConfigError
from .coords import mirror_hour
from .words import TEXT_SIDE_RE, mirror_word

STATUSES = ("exact-rule", "unchanged", "rejected", "llm", "llm-verified")
COORDS2D = {"pixel": None, "unit": 1.0, "thousand": 1000.0}  # the x range of each convention (pixel: W)
POINTS3D = ("stated", "camera")
BOX_FORMATS = ("xyxy", "xywh")  # 4-number tuples: (x0, y0, x1, y1) corners, or (x, y, w, h) top-left + size

#: (pattern, reason): text the rules cannot mirror safely.  Checked on question, answer and options.
REJECTIONS: tuple[tuple[str, str], ...] = (
    (r"\b(?:texts?|written|writing|writes?|read(?:s|ing)?|says|said|say(?!\s+(?:whether|if|which|yes|no|true))|signs?|signage|letters?|lettering|words?|"
     r"digits?|numerals?|brand|logos?|label(?:l?ed)?|captions?|inscri\w*|spell\w*|fonts?|printed|handwrit\w*|"
     r"license plate|jersey)\b",
     "text in the image (a flip mirrors the glyphs; reading and writing direction)"),
    (r"\b(?:left|right)[- ]?hand(?:ed)?\b(?![- ]side)|\bwhich hand\b|\bhandedness\b|"
     r"\b(?:left|right)\s+(?:arms?|legs?|foot|feet|eyes?|ears?|shoulders?|knees?|wrists?|elbows?|hips?|"
     r"gloves?|shoes?|sleeves?|pockets?)\b",
     "handedness or a body side (the person's own left, not the image's)"),
    (r"\b(?:north|south)?-?(?:east|west)(?:ern|ward|wards|erly)?\b",
     "compass direction (east/west need a map frame, not the image frame)"),
    (r"\bwhat time\b|\bthe time\b|\bclocks?\s+(?:shows?|reads?|says?|displays?|hands?)\b|"
     r"\bclocks?\s+face\b(?!\s*[(:,]?\s*(?:with\s+)?12\b)|"
     r"\b(?:wall|alarm|analog|analogue|digital)\s+clocks?\b|\bthe clock\b(?!\s+(?:directions?|positions?))",
     "a clock in the image (its digits and hands, not a clock direction)"),
    (r"\b(?:mirror\w*|reflect\w*|flip\w*)\b", "the record itself talks about mirroring or reflections"),
    (r"\bright\s+(?:now|away|here|there|next to|in front of|behind|above|below|beside|under|underneath|"
     r"on top of|after|before|between|by|in the middle)\b|"
     r"\b(?:is (?:this|that|it) right|that's right|all right|right or wrong|the right (?:answer|choice|option))\b|"
     r"\bright[- ]angled?\b",
     "'right' meaning 'directly' or 'correct', not a side"),
    (r"\bleft\s+(?:over|behind|alone|out|unattended|open)\b|\bleftovers?\b|"
     r"\b(?:is|are|was|were|has|have|had|be)\s+left\b(?!\s+(?:of|side|corner|edge|part|half|end|to|or))",
     "'left' meaning 'remaining' or 'departed', not a side"),
    (r"\b(?:stage|camera|screen)[- ](?:left|right)\b|\bport\b|\bstarboard\b|\b(?:driver|passenger)'?s? side\b",
     "a side in a named frame (stage, screen, vehicle) the rules cannot map"),
    (r"\bx[- ]?(?:coordinate|coord|position|value|axis)\b|\bx\s*=|\bcolumns?\b|\bazimuth\b|\bbearing\b",
     "a bare x coordinate, column or azimuth (frame and convention unknown)"),
)
_REJECT_RES = tuple((re.compile(p, re.I), r) for p, r in REJECTIONS)
_NUM = r"[+-]?\d+(?:\.\d+)?"
#: an x value stated with its number ("x = -0.27", "x-coordinate of 1.2"): exact in a stated camera frame
_XVALUE_RE = re.compile(r"(\bx(?:[- ]?(?:coordinate|coord|value|position))?\s*(?:=|:|\bis\b|\bof\b)\s*)(" + _NUM + ")",
                        re.I)
_X_REASON = REJECTIONS[-1][1]
#: the MCQ instruction's "letter" ("Reply with the letter of the correct answer"): not text in the image
_MCQ_LETTER_RE = re.compile(r"\b(?:the|its|an?|one|single|option'?s|choice'?s|correct)\s+letters?\b"
                            r"(?!\s+(?:on|in|written|printed|painted|shown))", re.I)

_TUPLE_RE = re.compile(r"[\(\[]\s*" + _NUM + r"(?:\s*,\s*" + _NUM + r")+\s*[\)\]]")
_NUM_RE = re.compile(_NUM)
#: words just before a tuple that make it a size or a colour (negating its first number would be wrong)
_NOT_A_POSITION_RE = re.compile(r"\b(?:sizes?|dimensions?|extents?|scale|rgb|colou?rs?)\b[^\n.;]*$", re.I)
#: "3 o'clock", "3 o’clock", and as people also type it, "3 o clock" / "3 oclock"
_CLOCK_RE = re.compile(r"\b(\d{1,2})(\s*o\s*['\u2019]?\s*clock)\b", re.I)
_CLOCK_WORD_RE = re.compile(r"\bclock\b(?!wise)|\bo\s*['\u2019]?\s*clock", re.I)
_YAW_RE = re.compile(r"(\b(?:yaw|heading)(?:\s+angle)?(?:\s*(?:of\b|is\b|=|:))?\s*)(" + _NUM + ")", re.I)
_OFFSET_RE = re.compile(r"(\b(?:lateral|horizontal|sideways|x)[ -](?:offset|displacement|shift)"
                        r"(?:\s*(?:of\b|is\b|=|:))?\s*)(" + _NUM + r")(?!.{0,25}\b(?:left|right)\b)", re.I)
_CAMERA_RE = re.compile(r"\bcamera[- ](?:frame|coordinates?|space|centric|view|axes)\b|"
                        r"\b(?:with respect|relative) to the camera\b|\bcamera'?s (?:coordinate|(?:reference )?frame)", re.I)
#: the words between the two sides of a symmetric disjunction ("left or right", "left side or its right side")
_DISJUNCTION_RE = re.compile(r"^(?:-hand)?\s*(?:side\s*)?,?\s*(?:(?:or|and|vs\.?|versus)\s+|/\s*)"
                             r"(?:(?:on|to|the|its|your|their|facing|turned|pointing|moving|going|towards?)\s+)*$",
                             re.I)
#: a side word that defines an axis or a scale ("x right", "3 = right", "3 is right"): a convention, not a fact
_CONVENTION_RE = re.compile(r"(?:\b[xyz]\s+|=\s*|\b\d{1,2}\s+(?:is|means)\s+(?:(?:to|on)\s+)?(?:(?:your|the)\s+)?)$",
                            re.I)
#: 'right' judging a statement or option ("Is the following right?", "Which choice is right?"): 'correct'
_JUDGED_RE = re.compile(r"\b(?:following|statement|claim|answer|option|choice|description|sentence)\s+(?:is\s+)?$",
                        re.I)
_SIDE_NOUN_RE = re.compile(r"\s*(?:of|side|corner|edge|half|part|end|hand)\b", re.I)


class RuleReject(Exception):
    """The rules cannot mirror this text safely; the message is the reason."""


@dataclass(frozen=True)
class Mirrored:
    """The rewrite of one record: ``status`` in :data:`STATUSES`; ``rules`` the rules that fired."""

    status: str
    question: str = ""
    answer: str = ""
    choices: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    reason: str = ""


@dataclass
class _Ctx:
    coords2d: str | None
    width: float | None
    camera: bool
    box: bool = False
    box_format: str = "xyxy"
    stated_camera: bool = False  # the text names the camera frame (x values may be mirrored)
    fired: set[str] = field(default_factory=set)


def rejection(text: str, camera: bool = False) -> str | None:
    """The reason ``text`` cannot be mirrored by the rules, or None.  ``camera``: the record
    states the camera frame, so an x stated with its value ("x = -0.27") is the camera's x."""
    text = _MCQ_LETTER_RE.sub(" ", text)
    for rx, reason in _REJECT_RES:
        if rx.search(_XVALUE_RE.sub(" ", text) if camera and reason == _X_REASON else text):
            return reason
    return None


def _neg(tok: str) -> str:
    """A signed number token negated, in the same digits (zero keeps no sign)."""
    body = tok.lstrip("+-")
    if float(body) == 0:
        return body
    return body if tok.startswith("-") else "-" + body


def _fmt_like(value: float, tok: str) -> str:
    decimals = len(tok.split(".")[1]) if "." in tok else 0
    return f"{value:.{decimals}f}"


def _tuple(m: re.Match[str], ctx: _Ctx) -> str:
    text = m.group(0)
    toks = _NUM_RE.findall(text)
    if _NOT_A_POSITION_RE.search(m.string[max(0, m.start() - 30):m.start()]):
        raise RuleReject("a number tuple that may be a size or a colour, not a position")
    if len(toks) == 3:
        if not ctx.camera:
            raise RuleReject("3D coordinates without a stated camera frame (pass points3d='camera' if they are)")
        ctx.fired.add("point3d")
        return text[0] + ", ".join([_neg(toks[0]), toks[1], toks[2]]) + text[-1]
    if len(toks) not in (2, 4):
        raise RuleReject(f"a list of {len(toks)} numbers (neither a 2D point, a 3D point nor a 2D box)")
    if ctx.coords2d is None:
        raise RuleReject("image coordinates with an unknown convention (pass coords2d: pixel, unit or thousand)")
    W = COORDS2D[ctx.coords2d] if ctx.coords2d != "pixel" else ctx.width
    if W is None:
        raise RuleReject("pixel coordinates without an image width")
    vals = [float(t) for t in toks]
    xywh = len(toks) == 4 and ctx.box_format == "xywh"
    if xywh and (vals[2] < 0 or vals[3] < 0):
        raise RuleReject("box with a negative width or height (not an (x, y, w, h) box)")
    xs = vals[0::2]
    if min(xs) < 0 or max(xs) > W:
        raise RuleReject(f"x coordinate outside [0, {W:g}] ({ctx.coords2d} convention)")
    if len(toks) == 2:
        ctx.fired.add("point2d")
        out = [_fmt_like(W - vals[0], toks[0]), toks[1]]
    elif xywh:
        if vals[0] + vals[2] > W:
            raise RuleReject(f"box with x + w outside [0, {W:g}] ({ctx.coords2d} convention)")
        ctx.fired.add("box2d")
        out = [_fmt_like(W - vals[0] - vals[2], toks[0]), toks[1], toks[2], toks[3]]
    else:
        if vals[2] < vals[0]:
            raise RuleReject("box with x1 < x0 (not an (x0, y0, x1, y1) box)")
        ctx.fired.add("box2d")
        out = [_fmt_like(W - vals[2], toks[2]), toks[1], _fmt_like(W - vals[0], toks[0]), toks[3]]
    return text[0] + ", ".join(out) + text[-1]


def _clock(m: re.Match[str], ctx: _Ctx) -> str:
    h = int(m.group(1))
    if not 1 <= h <= 12:
        raise RuleReject(f"clock hour {h} outside 1..12")
    ctx.fired.add("clock")
    return f"{mirror_hour(h)}{m.group(2)}"


def _judged(m: re.Match[str], before: str, text: str) -> bool:
    """Is this 'right' a verdict on a statement or option ('correct'), not a side?"""
    return (m.group(0).lower() == "right" and bool(_JUDGED_RE.search(before))
            and not _SIDE_NOUN_RE.match(text, m.end()))


def _sides(text: str, ctx: _Ctx) -> str:
    ms = list(TEXT_SIDE_RE.finditer(text))
    keep: set[int] = set()
    for i in range(len(ms) - 1):  # "left or right": both sides named, the order stays
        a, b = ms[i], ms[i + 1]
        if (mirror_word(a.group(0)).lower() == b.group(0).lower()
                and _DISJUNCTION_RE.match(text[a.end():b.start()])):
            keep.update((i, i + 1))
    out, pos = [], 0
    for i, m in enumerate(ms):
        before = text[max(0, m.start() - 40):m.start()]
        if i in keep or _CONVENTION_RE.search(before) or _judged(m, before, text):
            continue
        out += [text[pos:m.start()], mirror_word(m.group(0))]
        pos = m.end()
        ctx.fired.add("turn" if "clock" in m.group(0).lower() else "side")
    out.append(text[pos:])
    return "".join(out)


def mirror_text(text: str, ctx: _Ctx) -> str:
    """One text (question, answer or option) for the flipped image; raises :class:`RuleReject`."""
    text = _TUPLE_RE.sub(lambda m: _tuple(m, ctx), text)
    text = _CLOCK_RE.sub(lambda m: _clock(m, ctx), text)

    def signed(rule: str):
        def sub(m: re.Match[str]) -> str:
            ctx.fired.add(rule)
            return m.group(1) + _neg(m.group(2))
        return sub

    def yaw(m: re.Match[str]) -> str:
        ctx.fired.add("yaw")
        if ctx.box and abs(float(m.group(2))) == 90:  # a box's yaw is modulo 180 degrees: 90 stays 90
            return m.group(0)
        return m.group(1) + _neg(m.group(2))

    text = _YAW_RE.sub(yaw, text)
    if ctx.stated_camera:
        text = _XVALUE_RE.sub(signed("x_value"), text)
    text = _OFFSET_RE.sub(signed("offset"), text)
    return _sides(text, ctx)


def check_options(coords2d: str | None, points3d: str, box_format: str) -> None:
    """``ConfigError`` (a ``ValueError``) naming the option whose value the rules do not know."""
    if coords2d is not None and coords2d not in COORDS2D:
        raise ConfigError(f"coords2d must be one of {', '.join(COORDS2D)} or None, got {coords2d!r}")
    if points3d not in POINTS3D:
        raise ConfigError(f"points3d must be one of {', '.join(POINTS3D)}, got {points3d!r}")
    if box_format not in BOX_FORMATS:
        raise ConfigError(f"box_format must be one of {', '.join(BOX_FORMATS)}, got {box_format!r}")


def mirror_record(question: str, answer: str, choices: Sequence[str] = (), *, coords2d: str | None = None,
                  width: float | None = None, points3d: str = "stated", box_format: str = "xyxy") -> Mirrored:
    """The record for the horizontally flipped image, by the rules alone.

    ``coords2d``: the convention of 2D points and boxes in the text (None: such records are
    rejected); ``width``: the image width in pixels (``coords2d="pixel"``); ``points3d``:
    ``"stated"`` mirrors 3-number tuples only when the record names the camera frame,
    ``"camera"`` treats every 3-number tuple as camera-frame; ``box_format``: 4-number tuples
    are ``xyxy`` corners or ``xywh`` (top-left corner, width, height), in the same convention.
    """
    check_options(coords2d, points3d, box_format)
    choices = tuple(choices)
    everything = "\n".join((question, answer, *choices))
    camera = bool(_CAMERA_RE.search(everything))
    reason = next((r for t in (question, answer, *choices) if (r := rejection(t, camera)) is not None), None)
    if reason is not None:
        return Mirrored("rejected", reason=reason)
    if _CLOCK_WORD_RE.search(question) and re.search(r"\d", answer) and not _CLOCK_RE.search(answer):
        return Mirrored("rejected", reason="a clock direction answered without 'o'clock' (hour or not?)")
    ctx = _Ctx(coords2d, width, points3d == "camera" or camera, stated_camera=camera,
               box=bool(re.search(r"\bbox(?:es)?\b", everything, re.I)), box_format=box_format)
    try:
        q, a = mirror_text(question, ctx), mirror_text(answer, ctx)
        ch = tuple(mirror_text(c, ctx) for c in choices)
    except RuleReject as e:
        return Mirrored("rejected", reason=str(e))
    changed = (q, a, ch) != (question, answer, choices)
    return Mirrored("exact-rule" if changed else "unchanged", q, a, ch, tuple(sorted(ctx.fired)))
