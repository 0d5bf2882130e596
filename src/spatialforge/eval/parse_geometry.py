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

from .parse_common import NUM_PLAIN, ParseFailure, as_text, pick_stated, words_to_number
from .parse_length import _UNIT_WORD, UNIT_METRES

Scale = Literal["auto", "pixel", "unit", "thousand"]
_N = NUM_PLAIN
_ITEM = re.compile(rf"(?<![A-Za-z_\d.])({_N})\s*({_UNIT_WORD}|px|pixels?)?", re.I)
_SEP_OK = re.compile(r"[\s,;]*(?:[A-Za-z_]\w*\s*[=:]\s*)?[\s,;]*")
_BRACKET = re.compile(r"[\[(]([^\[\]()]*)[\])]")
_BOX_FAST = re.compile(rf"\s*\[\s*({_N})\s*,\s*({_N})\s*,\s*({_N})\s*,\s*({_N})\s*\]\s*")
_BOX_ONE = re.compile(rf"\[\s*({_N})\s*,\s*({_N})\s*,\s*({_N})\s*,\s*({_N})\s*\]")
_LOC = re.compile(r"<loc(\d{4})>")
_QWEN2_BOX = re.compile(rf"<\|box_start\|>\s*\(\s*({_N})\s*,\s*({_N})\s*\)\s*,\s*\(\s*({_N})\s*,\s*({_N})\s*\)")
_MOLMO = re.compile(rf"<points?\b[^>]*?\bx1?\s*=\s*\"({_N})\"[^>]*?\by1?\s*=\s*\"({_N})\"", re.I)
_KEYED = re.compile(rf"[\"']?\b([xyz])\b[\"']?\s*[=:]\s*({_N})\s*({_UNIT_WORD})?", re.I)
_BOX_KEYED = re.compile(rf"[\"']?\b(x0|y0|x1|y1|x_?min|y_?min|x_?max|y_?max)\b[\"']?\s*[=:]\s*({_N})", re.I)
_BOX_SLOT = {"x0": 0, "xmin": 0, "x_min": 0, "y0": 1, "ymin": 1, "y_min": 1,
             "x1": 2, "xmax": 2, "x_max": 2, "y1": 3, "ymax": 3, "y_max": 3}
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_BOX_KEYS = ("bbox_2d", "bbox", "box", "bounding_box", "box_2d")
_POINT_KEYS = ("point_2d", "point", "coordinates")


def _numbers_in(content: str, metres: bool = False, default_unit: str = "m") -> list[float] | None:
    """Numbers of a bracket group ("0.3 m, -0.1, 2.4"), or None if it holds other text."""
    values, pos = [], 0
    for m in _ITEM.finditer(content):
        if not _SEP_OK.fullmatch(content, pos, m.start()):
            return None
        v = float(m.group(1).replace("−", "-"))
        if metres:
            unit = (m.group(2) or default_unit).lower()
            if unit not in UNIT_METRES:
                return None
            v *= UNIT_METRES[unit]
        values.append(v)
        pos = m.end()
    if not values or not _SEP_OK.fullmatch(content, pos):
        return None
    return values if all(math.isfinite(v) for v in values) else None


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


def _groups(text: str, size: int, metres: bool = False, default_unit: str = "m") -> list[tuple[int, int, tuple]]:
    """Bracket groups with exactly ``size`` numbers, as (start, end, values)."""
    out = []
    for m in _BRACKET.finditer(text):
        nums = _numbers_in(m.group(1), metres, default_unit)
        if nums is not None and len(nums) == size:
            out.append((m.start(), m.end(), tuple(nums)))
    return out


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
    obj = _json(t)
    cands: list[tuple[int, int, tuple]] = []
    if obj is not None:
        for v in _find_key(obj, _BOX_KEYS) or ([obj] if isinstance(obj, list) else []):
            if isinstance(v, list) and len(v) == 4 and all(isinstance(x, (int, float)) for x in v):
                cands.append((0, 0, tuple(float(x) for x in v)))
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
        obj = _json(t)
        cands: list[tuple[int, int, tuple]] = []
        if obj is not None:
            for v in _find_key(obj, _POINT_KEYS) or ([obj] if isinstance(obj, list) else []):
                if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
                    cands.append((0, 0, (float(v[0]), float(v[1]))))
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


def _triple(text: str | None, what: str, default_unit: str) -> tuple[float, float, float] | ParseFailure:
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    obj = _json(t)
    if isinstance(obj, dict) and all(k in obj for k in "xyz"):
        try:
            return tuple(float(obj[k]) for k in "xyz")
        except (TypeError, ValueError):
            return ParseFailure(f"{what}: x/y/z are not numbers")
    if isinstance(obj, list) and len(obj) == 3 and all(isinstance(v, (int, float)) for v in obj):
        return tuple(float(v) for v in obj)
    cands = _groups(t, 3, metres=True, default_unit=default_unit)
    if not cands:
        keyed: dict[str, float] = {}
        for k, v, u in _KEYED.findall(t):
            keyed.setdefault(k.lower(), float(v) * UNIT_METRES[(u or default_unit).lower()])
        if len(keyed) == 3:
            return (keyed["x"], keyed["y"], keyed["z"])
        if keyed:
            return ParseFailure(f"{what}: only {', '.join(sorted(keyed))} given")
    return pick_stated(cands, t, what)


def parse_point3d(text: str | None, default_unit: str = "m") -> tuple[float, float, float] | ParseFailure:
    """A 3D point in metres: "(0.3, -0.1, 2.4)", "[30 cm, -10 cm, 2.4 m]", "x=0.3 m, y=…",
    JSON. Coordinates without a unit are in ``default_unit`` (metres: the camera frame's)."""
    if default_unit.lower() not in UNIT_METRES:
        return ParseFailure(f"unknown default unit {default_unit!r}")
    return _triple(text, "point", default_unit)


def parse_vector3d(text: str | None) -> tuple[float, float, float] | ParseFailure:
    """A 3D direction as written (not normalised); the zero vector is a failure."""
    v = _triple(text, "vector", "m")
    if isinstance(v, ParseFailure):
        return v
    if not any(v):
        return ParseFailure("zero vector has no direction")
    return v


_CENTER = re.compile(r"\b(?:center|centre|position|location)\b[^\[(\d]{0,12}([\[(][^\[\]()]*[\])])", re.I)
_SIZE = re.compile(r"\b(?:size|dimensions?|extent)\b[^\[(\d]{0,12}([\[(][^\[\]()]*[\])])", re.I)
_YAW = re.compile(rf"\b(?:yaw|heading|rotation|angle)\b\W{{0,4}}({_N})\s*(°|deg\w*|rad\w*)?", re.I)


def parse_box3d(text: str | None) -> dict[str, Any] | ParseFailure:
    """A gravity-aligned 3D box {"center": (x, y, z), "size": (w, h, l), "yaw": rad}.

    Forms: JSON with center/size/yaw (yaw optional, 0), JSON ``bbox_3d`` or a plain list of
    7 numbers [x, y, z, w, h, l, yaw] (6: yaw 0; the record's size order), or text
    "center (..), size (..), yaw 30°". Lengths may carry units; yaw is radians unless
    marked deg / °.
    """
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    obj = _json(t)
    flat = None
    if isinstance(obj, dict) and "center" in obj and ("size" in obj or "dimensions" in obj):
        try:
            c = tuple(float(v) for v in obj["center"])
            s = tuple(float(v) for v in obj.get("size", obj.get("dimensions")))
            return _box3d(c, s, float(obj.get("yaw", 0.0)))
        except (TypeError, ValueError):
            return ParseFailure("box: center/size/yaw are not numbers")
    if obj is not None:
        vals = _find_key(obj, ("bbox_3d", "box_3d", "box3d")) or [obj]
        if len(vals) == 1 and isinstance(vals[0], list) and all(isinstance(v, (int, float)) for v in vals[0]):
            flat = [float(v) for v in vals[0]]
    c, s = _CENTER.search(t), _SIZE.search(t)
    if flat is None and c and s:
        cn, sn = _numbers_in(c.group(1)[1:-1], metres=True), _numbers_in(s.group(1)[1:-1], metres=True)
        if cn is None or sn is None or len(cn) != 3 or len(sn) != 3:
            return ParseFailure("box: center and size need 3 numbers each")
        y = _YAW.search(t)
        yaw = 0.0
        if y:
            yaw = float(y.group(1))
            if y.group(2) and not y.group(2).lower().startswith("rad"):
                yaw = math.radians(yaw)
        return _box3d(tuple(cn), tuple(sn), yaw)
    if flat is None:
        groups = _groups(t, 7, metres=False) or _groups(t, 6, metres=False)
        box = pick_stated(groups, t, "box")
        if isinstance(box, ParseFailure):
            return box
        flat = list(box)
    if len(flat) not in (6, 7):
        return ParseFailure(f"box: {len(flat)} numbers, need 7 (x, y, z, w, h, l, yaw) or 6")
    return _box3d(tuple(flat[:3]), tuple(flat[3:6]), flat[6] if len(flat) == 7 else 0.0)


def _box3d(center: tuple, size: tuple, yaw: float) -> dict[str, Any] | ParseFailure:
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


def mirror_clock(hour: int) -> int:
    """Clock direction after a horizontal flip: 3 <-> 9, 12 and 6 stay."""
    return (12 - hour) % 12 or 12
