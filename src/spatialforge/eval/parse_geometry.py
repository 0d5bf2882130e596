"""Coordinates in answers: 2D boxes and points (pixels), 3D points, directions and boxes,
and clock directions.

2D scales (``scale=``): ``"pixel"``; ``"unit"`` (0–1 of the image size); ``"thousand"``
(0–1000, Qwen2-VL); ``"auto"`` (default) reads PaliGemma ``<locNNNN>`` tokens as 1/1024
bins, Qwen2-VL ``<|box_start|>`` boxes as 0–1000, Molmo ``<point x= y=>`` as percent,
values all within [0, 1] as unit, anything else as pixels (Qwen2.5-VL answers in absolute
pixels; pass ``scale="thousand"`` for models that answer 0–1000 in plain lists).
Normalised forms need ``image_size=(width, height)``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

from .parse_common import NUM_PLAIN, ParseFailure, as_text, pick_stated, to_float, words_to_number
from .parse_length import _UNIT_SYM, _UNIT_WORD, unit_asked, unit_factor

Scale = Literal["auto", "pixel", "unit", "thousand"]
_N = NUM_PLAIN
_ANGLE_UNIT = r"°|deg(?:rees?)?\b|rad(?:ians?)?\b"
# one number of a list with the unit written after it, if any ("30 cm", "27\"", "15°", "120 px")
_ITEM = re.compile(rf"(?<![A-Za-z_\d.])({_N})\s*({_UNIT_WORD}|{_UNIT_SYM}|{_ANGLE_UNIT}|px|pixels?)?", re.I)
# a unit written once after a whole list: "(27, 11, 114) inches"
_AFTER_UNIT = re.compile(rf"\s*({_UNIT_WORD})", re.I)
_SEP_OK = re.compile(r"[\s,;]*(?:[A-Za-z_]\w*\s*[=:]\s*)?[\s,;]*")
_BRACKET = re.compile(r"[\[(]([^\[\]()]*)[\])]")
_BOX_FAST = re.compile(rf"\s*\[\s*({_N})\s*,\s*({_N})\s*,\s*({_N})\s*,\s*({_N})\s*\]\s*")
_BOX_ONE = re.compile(rf"\[\s*({_N})\s*,\s*({_N})\s*,\s*({_N})\s*,\s*({_N})\s*\]")
_LOC = re.compile(r"<loc(\d{4})>")
_QWEN2_BOX = re.compile(rf"<\|box_start\|>\s*\(\s*({_N})\s*,\s*({_N})\s*\)\s*,\s*\(\s*({_N})\s*,\s*({_N})\s*\)")
_MOLMO = re.compile(rf"<points?\b[^>]*?\bx1?\s*=\s*\"({_N})\"[^>]*?\by1?\s*=\s*\"({_N})\"", re.I)
_KEYED = re.compile(rf"[\"']?\b([xyz])\b[\"']?\s*[=:]\s*({_N})\s*({_UNIT_WORD}|{_UNIT_SYM})?", re.I)
_BOX_KEYED = re.compile(rf"[\"']?\b(x0|y0|x1|y1|x_?min|y_?min|x_?max|y_?max)\b[\"']?\s*[=:]\s*({_N})", re.I)
_BOX_SLOT = {"x0": 0, "xmin": 0, "x_min": 0, "y0": 1, "ymin": 1, "y_min": 1,
             "x1": 2, "xmax": 2, "x_max": 2, "y1": 3, "ymax": 3, "y_max": 3}
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_BOX_KEYS = ("bbox_2d", "bbox", "box", "bounding_box", "box_2d")
_POINT_KEYS = ("point_2d", "point", "coordinates")


def _items_in(content: str) -> list[tuple[float, str | None]] | None:
    """(number, unit written after it) of each item of a bracket group ("0.3 m, -0.1, 2.4"),
    or None if the group holds other text or a non-finite number."""
    items, pos = [], 0
    for m in _ITEM.finditer(content):
        if not _SEP_OK.fullmatch(content, pos, m.start()):
            return None
        items.append((to_float(m.group(1)), m.group(2)))
        pos = m.end()
    if not items or not _SEP_OK.fullmatch(content, pos):
        return None
    return items if all(math.isfinite(v) for v, _ in items) else None


def _numbers_in(content: str) -> list[float] | None:
    """The numbers of a bracket group, units dropped (2D coordinates: pixels or normalised)."""
    items = _items_in(content)
    return None if items is None else [v for v, _ in items]


def _json(text: str) -> Any:
    s = _FENCE.sub("", text.strip())
    if not s or s[0] not in "[{":
        return None
    try:
        return json.loads(s)
    except ValueError:
        return None


def _find_key(obj: Any, keys: tuple[str, ...]) -> list[Any]:
    """Values of the first of ``keys`` in a JSON object or a list of objects."""
    out = []
    for o in obj if isinstance(obj, list) else [obj]:
        if isinstance(o, dict):
            for k in keys:
                if k in o:
                    out.append(o[k])
                    break
    return out


def _json_lists(obj: Any, keys: tuple[str, ...], size: int) -> list[tuple[int, int, tuple]]:
    """Lists of ``size`` numbers under the first of ``keys`` (or the JSON list itself), as
    candidates for :func:`pick_stated`."""
    if obj is None:
        return []
    return [(0, 0, tuple(float(x) for x in v))
            for v in _find_key(obj, keys) or ([obj] if isinstance(obj, list) else [])
            if isinstance(v, list) and len(v) == size and all(isinstance(x, (int, float)) for x in v)]


def _groups(text: str, size: int) -> list[tuple[int, int, tuple]]:
    """Bracket groups with exactly ``size`` numbers, as (start, end, values); units dropped."""
    out = []
    for m in _BRACKET.finditer(text):
        nums = _numbers_in(m.group(1))
        if nums is not None and len(nums) == size:
            out.append((m.start(), m.end(), tuple(nums)))
    return out


# ---------------------------------------------------------------- 3D lengths and their units
Items = list[tuple[float, "str | None"]]


def _length_factor(unit: str) -> float | ParseFailure:
    f = unit_factor(unit)
    return ParseFailure(f"{unit!r} is not a length unit") if f is None else f


def _in_metres(parts: list[tuple[Items, str | None]], default_unit: str,
               as_written: bool = False) -> list[tuple[float, ...]] | ParseFailure:
    """Each part's numbers in metres. A part is a list: (items, unit written once for it).

    Which unit a number takes, first that applies: its own ("30 cm"); its list's ("(27, 11,
    114) inches", "in centimeters: (...)"); the one unit the other numbers of its list state
    ("(30, -10, 240 cm)"); for a list that states no unit, the answer's unit when the answer
    states exactly one ("center (1, 2, 3) m, size (0.5, 1, 2)"), else ``default_unit``. A
    bare non-zero number in a list that states two different units is a failure (zero needs
    no unit). ``as_written``: numbers come back unscaled unless the answer mixes units (a
    direction has no unit of its own)."""
    stated: list[set[float]] = []
    for items, list_unit in parts:
        st = set()
        for u in [list_unit, *(u for _, u in items)]:
            if u is not None:
                f = _length_factor(u)
                if isinstance(f, ParseFailure):
                    return f
                st.add(f)
        stated.append(st)
    every = set().union(*stated)
    if as_written and len(every) <= 1:
        return [tuple(v for v, _ in items) for items, _ in parts]
    answer_unit = next(iter(every)) if len(every) == 1 else unit_factor(default_unit)
    out = []
    for (items, list_unit), st in zip(parts, stated):
        if list_unit is not None:
            bare = unit_factor(list_unit)
        else:
            bare = answer_unit if not st else next(iter(st)) if len(st) == 1 else None
        values = []
        for v, u in items:
            f = unit_factor(u) if u is not None else bare
            if f is None:
                if v != 0:
                    return ParseFailure(f"number {v:g} has no unit among numbers in different units")
                f = 1.0  # zero is zero in every unit
            values.append(v * f)
        out.append(tuple(values))
    return out


def _unit_after(text: str, end: int) -> str | None:
    m = _AFTER_UNIT.match(text, end)
    return m.group(1) if m else None


def _length_groups(text: str, size: int, default_unit: str,
                   as_written: bool = False) -> tuple[list[tuple[int, int, tuple]], ParseFailure | None]:
    """Bracket groups of ``size`` lengths in metres (a unit may follow the group), and the
    first group's failure to resolve its units, if any."""
    stated_for_text = unit_asked(text)  # "in centimeters: (27, 11, 114)"
    out, failure = [], None
    for m in _BRACKET.finditer(text):
        items = _items_in(m.group(1))
        if items is None or len(items) != size:
            continue
        after = _unit_after(text, m.end())
        res = _in_metres([(items, after or stated_for_text)], default_unit, as_written)
        if isinstance(res, ParseFailure):
            failure = failure or res
            continue
        out.append((m.start(), m.end(), res[0]))
    return out, failure


def _json_items(values: Any) -> Items | None:
    """(number, unit) of a JSON list/value of numbers or strings like "30 cm"; None if other."""
    out: Items = []
    for v in values if isinstance(values, list) else [values]:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append((float(v), None))
        elif isinstance(v, str) and (items := _items_in(v)) is not None and len(items) == 1:
            out.append(items[0])
        else:
            return None
    return out


def _json_unit(obj: Any) -> str | None:
    u = obj.get("unit", obj.get("units")) if isinstance(obj, dict) else None
    return u if isinstance(u, str) and u.strip() else None


def _to_pixels(values: tuple[float, ...], scale: str, image_size, what: str) -> tuple[float, ...] | ParseFailure:
    if scale == "pixel":
        return values
    if image_size is None:
        return ParseFailure(f"{what} is normalised ({scale}); image_size is needed")
    w, h = image_size
    div = {"unit": 1.0, "thousand": 1000.0, "loc": 1024.0, "percent": 100.0}[scale]
    return tuple(v / div * (w if i % 2 == 0 else h) for i, v in enumerate(values))


def _auto(values: tuple[float, ...], scale: str) -> str:
    if scale != "auto":
        return scale
    return "unit" if all(0.0 <= v <= 1.0 for v in values) else "pixel"


def parse_box2d(text: str | None, image_size: tuple[float, float] | None = None,
                scale: Scale = "auto") -> tuple[float, float, float, float] | ParseFailure:
    """An axis-aligned 2D box (x0, y0, x1, y1) in pixels, corners sorted."""
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    m = _BOX_FAST.fullmatch(t)
    if m is None and "<" not in t and "(" not in t and t.count("[") == 1:
        m = _BOX_ONE.search(t)  # the only bracket group: '{"bbox_2d": [..], ...}', "The box is [..]."
    if m:
        box = tuple(float(g) for g in m.groups())
        src = _auto(box, scale)
    else:
        box, src = _box_candidates(t, scale)
        if isinstance(box, ParseFailure):
            return box
    px = _to_pixels(box, src, image_size, "box")
    if isinstance(px, ParseFailure):
        return px
    x0, y0, x1, y1 = px
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _box_candidates(t: str, scale: str) -> tuple[Any, str]:
    locs = _LOC.findall(t)
    if locs and scale == "auto":
        if len(locs) % 4:
            return ParseFailure(f"{len(locs)} <loc> tokens; a box needs 4"), scale
        boxes = {tuple(int(v) for v in locs[i:i + 4]) for i in range(0, len(locs), 4)}
        if len(boxes) > 1:
            return ParseFailure(f"{len(boxes)} different boxes"), scale
        y0, x0, y1, x1 = next(iter(boxes))  # PaliGemma order: y first
        return (float(x0), float(y0), float(x1), float(y1)), "loc"
    q = _QWEN2_BOX.search(t)
    if q and scale == "auto":
        return tuple(float(g) for g in q.groups()), "thousand"
    cands = _json_lists(_json(t), _BOX_KEYS, 4)
    if not cands:
        cands = _groups(t, 4)
        pairs = _groups(t, 2)
        for a, b in zip(pairs, pairs[1:]):  # "(x0, y0), (x1, y1)" / "top left (..) bottom right (..)"
            if b[0] - a[1] <= 20:
                cands.append((a[0], b[1], a[2] + b[2]))
        cands.sort()
    if not cands:  # "x0=10, y0=20, x1=110, y1=220" / "xmin: .."
        slots: dict[int, float] = {}
        for k, v in _BOX_KEYED.findall(t):
            slots.setdefault(_BOX_SLOT[k.lower()], float(v))
        if len(slots) == 4:
            cands = [(0, 0, tuple(slots[i] for i in range(4)))]
    box = pick_stated(cands, t, "box")
    if isinstance(box, ParseFailure):
        return box, scale
    return box, _auto(box, scale)


def parse_point2d(text: str | None, image_size: tuple[float, float] | None = None,
                  scale: Scale = "auto") -> tuple[float, float] | ParseFailure:
    """A 2D point (x, y) in pixels: "(120, 45)", "[0.3, 0.6]", {"point_2d": [..]},
    "x=120, y=45", Molmo ``<point x="30.5" y="60.1">`` (percent)."""
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    src = scale
    molmo = _MOLMO.findall(t)
    if molmo and scale == "auto":
        pts = {(float(x), float(y)) for x, y in molmo}
        if len(pts) > 1:
            return ParseFailure(f"{len(pts)} different points")
        pt, src = next(iter(pts)), "percent"
    else:
        cands = _json_lists(_json(t), _POINT_KEYS, 2)
        if not cands:
            cands = _groups(t, 2)
        if not cands:
            keyed = {k.lower(): float(v) for k, v, _ in _KEYED.findall(t)}
            if "x" in keyed and "y" in keyed:
                cands = [(0, 0, (keyed["x"], keyed["y"]))]
        pt = pick_stated(cands, t, "point")
        if isinstance(pt, ParseFailure):
            return pt
        src = _auto(pt, scale)
    px = _to_pixels(pt, src, image_size, "point")
    return px if isinstance(px, ParseFailure) else (px[0], px[1])


def _triple(text: str | None, what: str, default_unit: str,
            as_written: bool = False) -> tuple[float, float, float] | ParseFailure:
    """Three lengths in metres (see :func:`_in_metres` for which unit a number takes)."""
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    obj = _json(t)
    if isinstance(obj, dict) and all(k in obj for k in "xyz"):
        items = _json_items([obj[k] for k in "xyz"])
        if items is None:
            return ParseFailure(f"{what}: x/y/z are not numbers")
        res = _in_metres([(items, _json_unit(obj))], default_unit, as_written)
        return res if isinstance(res, ParseFailure) else res[0]
    if isinstance(obj, list) and len(obj) == 3 and (items := _json_items(obj)) is not None:
        res = _in_metres([(items, None)], default_unit, as_written)
        return res if isinstance(res, ParseFailure) else res[0]
    cands, failure = _length_groups(t, 3, default_unit, as_written)
    if not cands:
        keyed: dict[str, tuple[float, str | None]] = {}
        for k, v, u in _KEYED.findall(t):
            keyed.setdefault(k.lower(), (to_float(v), u or None))
        if len(keyed) == 3:
            res = _in_metres([([keyed[k] for k in "xyz"], unit_asked(t))], default_unit, as_written)
            return res if isinstance(res, ParseFailure) else res[0]
        if keyed:
            return ParseFailure(f"{what}: only {', '.join(sorted(keyed))} given")
        if failure is not None:
            return ParseFailure(f"{what}: {failure.reason}")
    return pick_stated(cands, t, what)


def _check_unit(default_unit: str) -> ParseFailure | None:
    return None if unit_factor(default_unit) is not None else ParseFailure(f"unknown default unit {default_unit!r}")


def parse_point3d(text: str | None, default_unit: str = "m") -> tuple[float, float, float] | ParseFailure:
    """A 3D point in metres: "(0.3, -0.1, 2.4)", "(27, 11, 114) inches", "[30 cm, -10 cm,
    2.4 m]", "(0.3 m, -0.1 m, 2.4 m)", "x=30 cm, y=-10 cm, z=240 cm", JSON (``"unit"`` key
    allowed). A unit stated once applies to the coordinates without one; ``default_unit``
    (metres: the camera frame's) only when the answer states no unit at all."""
    bad = _check_unit(default_unit)
    return bad if bad is not None else _triple(text, "point", default_unit)


def parse_vector3d(text: str | None) -> tuple[float, float, float] | ParseFailure:
    """A 3D direction as written (not normalised); the zero vector is a failure.

    A direction has no unit: numbers come back as written whether or not one unit is stated
    for them ("(0.6, 0, -0.8) m"); only components in different units ("(30 cm, 0, 1 m)")
    are converted to metres, so that they point the way the answer means."""
    v = _triple(text, "vector", "m", as_written=True)
    if isinstance(v, ParseFailure):
        return v
    if not any(v):
        return ParseFailure("zero vector has no direction")
    return v


_BY = r"\s*(?:x|×|\*|by)\s*"
_DIM_UNIT = rf"{_UNIT_WORD}|in(?={_BY})|{_UNIT_SYM}"  # "2 in x 3 in x 4 in": "in" before "x" is inches
_DIMS = re.compile(rf"({_N})\s*({_DIM_UNIT})?{_BY}({_N})\s*({_DIM_UNIT})?{_BY}({_N})\s*({_DIM_UNIT})?", re.I)
_CENTER = re.compile(r"\b(?:center|centre|position|location)\b[^\[(\d]{0,12}[\[(]([^\[\]()]*)[\])]", re.I)
_SIZE = re.compile(rf"\b(?:size|dimensions?|extent)\b[^\[(\d+\-−.]{{0,12}}(?:[\[(]([^\[\]()]*)[\])]|(?={_N}))", re.I)
# the sign belongs to the number: "yaw -84°" (a looser gap once read it as +84°)
_YAW = re.compile(rf"\b(?:yaw|heading|rotation|angle)\b[\s:=≈~]*(?:(?:of|is|about)\s+)?({_N})\s*({_ANGLE_UNIT})?",
                  re.I)


def _radians(value: float, unit: str | None) -> float | ParseFailure:
    """Yaw in radians: degrees when marked ° / deg, radians when unmarked or marked rad."""
    if unit is None or unit.lower().startswith("rad"):
        return value
    if unit == "°" or unit.lower().startswith("deg"):
        return math.radians(value)
    return ParseFailure(f"box: yaw in {unit!r} is not an angle")


def _box_size(text: str, m: re.Match) -> tuple[Items, str | None] | None:
    """The size items after "size": a bracket group "(0.5, 1, 2) m" or "0.5 x 1 x 2 m"."""
    if m.group(1) is not None:
        items = _items_in(m.group(1))
        return None if items is None or len(items) != 3 else (items, _unit_after(text, m.end()))
    d = _DIMS.match(text, m.end())
    if d is None:
        return None
    items = [(to_float(d.group(i)), d.group(i + 1)) for i in (1, 3, 5)]
    return items, _unit_after(text, d.end())


def parse_box3d(text: str | None, default_unit: str = "m") -> dict[str, Any] | ParseFailure:
    """A gravity-aligned 3D box {"center": (x, y, z), "size": (w, h, l), "yaw": rad}, metres.

    Forms: JSON with center/size/yaw (yaw optional, 0; a ``"unit"`` key allowed), JSON
    ``bbox_3d`` or a plain list of 7 numbers [x, y, z, w, h, l, yaw] (6: yaw 0; the record's
    size order), or text "center (..) m, size (..) / size 0.5 x 1 x 2 m, yaw 30°". Lengths
    take their units as in :func:`parse_point3d` (a unit after a list applies to it; one
    unit stated in the box applies to bare numbers; ``default_unit`` when none is stated);
    yaw is radians unless marked deg / °.
    """
    bad = _check_unit(default_unit)
    if bad is not None:  # a ParseFailure is falsy
        return bad
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    obj = _json(t)
    flat, flat_unit = None, None
    if isinstance(obj, dict) and "center" in obj and ("size" in obj or "dimensions" in obj):
        c, s = _json_items(obj["center"]), _json_items(obj.get("size", obj.get("dimensions")))
        y = _json_items(obj.get("yaw", 0.0))
        if c is None or s is None or y is None or len(y) != 1:
            return ParseFailure("box: center/size/yaw are not numbers")
        res = _in_metres([(c, _json_unit(obj)), (s, _json_unit(obj))], default_unit)
        if isinstance(res, ParseFailure):
            return ParseFailure(f"box: {res.reason}")
        return _box3d(res[0], res[1], _radians(*y[0]))
    if obj is not None:
        vals = _find_key(obj, ("bbox_3d", "box_3d", "box3d")) or [obj]
        if len(vals) == 1 and isinstance(vals[0], list) and (items := _json_items(vals[0])) is not None:
            flat, flat_unit = items, _json_unit(obj)
    c, s = _CENTER.search(t), _SIZE.search(t)
    size = _box_size(t, s) if s else None
    if flat is None and c and s:
        cn = _items_in(c.group(1))
        if cn is None or size is None or len(cn) != 3:
            return ParseFailure("box: center and size need 3 numbers each")
        res = _in_metres([(cn, _unit_after(t, c.end()) or unit_asked(t)), (size[0], size[1] or unit_asked(t))],
                         default_unit)
        if isinstance(res, ParseFailure):
            return ParseFailure(f"box: {res.reason}")
        y = _YAW.search(t)
        return _box3d(res[0], res[1], _radians(to_float(y.group(1)), y.group(2)) if y else 0.0)
    if flat is None:
        groups = []
        for n in (7, 6):
            for m in _BRACKET.finditer(t):
                items = _items_in(m.group(1))
                if items is not None and len(items) == n:
                    groups.append((m.start(), m.end(), (tuple(items), _unit_after(t, m.end()) or unit_asked(t))))
            if groups:
                break
        box = pick_stated(groups, t, "box")
        if isinstance(box, ParseFailure):
            return box
        flat, flat_unit = list(box[0]), box[1]
    if len(flat) not in (6, 7):
        return ParseFailure(f"box: {len(flat)} numbers, need 7 (x, y, z, w, h, l, yaw) or 6")
    res = _in_metres([(flat[:6], flat_unit)], default_unit)
    if isinstance(res, ParseFailure):
        return ParseFailure(f"box: {res.reason}")
    return _box3d(res[0][:3], res[0][3:], _radians(*flat[6]) if len(flat) == 7 else 0.0)


def _box3d(center: tuple, size: tuple, yaw: float | ParseFailure) -> dict[str, Any] | ParseFailure:
    if isinstance(yaw, ParseFailure):
        return yaw
    if len(center) != 3 or len(size) != 3:
        return ParseFailure("box: center and size need 3 numbers each")
    if not all(math.isfinite(v) for v in (*center, *size, yaw)):
        return ParseFailure("box: non-finite number")
    if min(size) <= 0:
        return ParseFailure(f"box: size must be positive, got {size}")
    return {"center": center, "size": size, "yaw": yaw}


# ---------------------------------------------------------------- clock directions
_HOURS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_CLOCK = re.compile(rf"\b(\d{{1,2}}|{_HOURS})\s*(?:o\s*['’]?\s*clock\b|oclock\b|:00\b)", re.I)
_BARE_HOUR = re.compile(r"\W*(?:at\s+)?(\d{1,2})\W*", re.I)


def parse_clock_direction(text: str | None) -> int | ParseFailure:
    """Clock direction 1..12 ("at 3 o'clock" -> 3, "three o'clock", "3:00"; a bare 1–12)."""
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    mentions = []
    for m in _CLOCK.finditer(t):
        g = m.group(1)
        h = int(g) if g.isdigit() else int(words_to_number(g))
        if not 1 <= h <= 12:
            return ParseFailure(f"{h} o'clock is not a clock direction")
        mentions.append((m.start(), m.end(), h))
    if not mentions:
        b = _BARE_HOUR.fullmatch(t)
        if b and 1 <= int(b.group(1)) <= 12:
            return int(b.group(1))
        return ParseFailure("no clock direction found")
    return pick_stated(mentions, t, "clock direction")
