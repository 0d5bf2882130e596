"""Strict type checks of a scene JSON record before it becomes a ``Scene`` (docs/scene-format.md).

The dataclasses check values (finite, positive, in range); this checks the JSON types they
would otherwise coerce silently: ``"references": "the red ball"`` would become a tuple of
characters, ``"flipped": "no"`` true, ``"width": 640.9`` 640.  Every message names the field,
and the object (``object 3 ('chair')``, or ``object #2`` when its id is unusable).  It runs
on every scene load, so it checks types only, with plain ``type`` tests.
"""

from __future__ import annotations

from typing import Any

from .scene import SceneError

# Type tests of a whole list at C speed: ``frozenset.issuperset(map(type, values))``.
_INT_ONLY = frozenset({int})
_NUMBERS = frozenset({int, float})  # bool is not a number here
_STRINGS = frozenset({str})


def _kind(v: Any) -> str:
    return {"dict": "object", "list": "list", "str": "string"}.get(type(v).__name__, type(v).__name__)


def _fail(where: str, name: str, want: str, v: Any) -> None:
    if v is None:
        raise SceneError(f"{where}{name} is missing or null, must be {want}")
    shown = repr(v) if isinstance(v, (str, int, float, bool)) else f"{_kind(v)} {v!r}"
    raise SceneError(f"{where}{name} must be {want}, got {shown if len(shown) <= 60 else shown[:57] + '...'}")


def _is_num(v: Any) -> bool:
    t = type(v)
    return t is float or t is int  # bool is not a number here


def _str(d: dict, key: str, where: str, *, optional: bool = False, nonempty: bool = True) -> None:
    v = d.get(key)
    if v is None and optional:
        return
    if type(v) is not str or (nonempty and not v):
        _fail(where, key, "a non-empty string" if nonempty else "a string", v)


def _int(d: dict, key: str, where: str) -> None:
    v = d.get(key)
    if type(v) is not int:
        _fail(where, key, "an integer", v)


def _num(d: dict, key: str, where: str, *, optional: bool = False) -> None:
    v = d.get(key)
    if v is None and optional:
        return
    if not _is_num(v):
        _fail(where, key, "a number", v)


def _vec(d: dict, key: str, where: str, n: int, *, optional: bool = False) -> None:
    v = d.get(key)
    if v is None and optional:
        return
    if type(v) is not list or len(v) != n or not _NUMBERS.issuperset(map(type, v)):
        _fail(where, key, f"a list of {n} numbers", v)


def _dict(d: dict, key: str, where: str, *, optional: bool = False) -> dict | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if type(v) is not dict:
        _fail(where, key, "an object", v)
    return v


def _check_camera(c: Any) -> None:
    if type(c) is not dict:
        _fail("", "camera", "an object", c)
    for k in ("fx", "fy", "cx", "cy"):
        _num(c, k, "camera: ")
    for k in ("width", "height"):
        _int(c, k, "camera: ")
    R = c.get("R_world_cam")
    if R is not None and (type(R) is not list or len(R) != 3
                          or not all(type(r) is list and len(r) == 3 and _NUMBERS.issuperset(map(type, r)) for r in R)):
        _fail("camera: ", "R_world_cam", "3 rows of 3 numbers", R)


def _check_object(o: Any, i: int) -> None:
    if type(o) is not dict:
        _fail(f"object #{i}: ", "record", "an object", o)
    oid, cat = o.get("id"), o.get("category")
    where = f"object {oid} ({cat!r}): " if type(oid) is int else f"object #{i}: "
    _int(o, "id", where)
    _str(o, "category", where)
    box = _dict(o, "box3d", where)
    _vec(box, "center", where + "box3d.", 3)
    _vec(box, "size", where + "box3d.", 3)
    _num(box, "yaw", where + "box3d.", optional=True)
    _vec(o, "box2d", where, 4, optional=True)
    _vec(o, "front", where, 3, optional=True)
    mask = _dict(o, "mask", where, optional=True)
    if mask is not None:
        size, counts = mask.get("size"), mask.get("counts")
        if type(size) is not list or len(size) != 2 or not all(type(s) is int for s in size):
            _fail(where, "mask.size", "[height, width] integers", size)
        if type(counts) is not list or not _INT_ONLY.issuperset(map(type, counts)):
            _fail(where, "mask.counts", "a list of integers", counts)
    attrs = _dict(o, "attributes", where, optional=True)
    if attrs is not None and not _STRINGS.issuperset(map(type, attrs.values())):
        _fail(where, "attributes", "an object of strings", attrs)
    refs = o.get("references")
    if refs is not None and (type(refs) is not list or not _STRINGS.issuperset(map(type, refs))):
        _fail(where, "references", "a list of strings", refs)
    if "provenance" in o:
        _str(o, "provenance", where)
    if "confidence" in o:
        _num(o, "confidence", where)
    for k in ("occlusion", "truncation"):
        _num(o, k, where, optional=True)


def check_scene_dict(d: Any) -> None:
    """Raise ``SceneError`` if a parsed scene JSON has a field of the wrong type (values are
    checked later by the records).  Optional fields may be missing or null."""
    if type(d) is not dict:
        _fail("", "a scene record", "a JSON object", d)
    if "schema_version" in d:
        _int(d, "schema_version", "")
    _str(d, "id", "")
    _str(d, "image_path", "")
    for k in ("depth_path", "point_map_path"):
        _str(d, k, "", optional=True)
    if d.get("flipped") is not None and type(d["flipped"]) is not bool:
        _fail("", "flipped", "true or false", d["flipped"])
    if "source" in d:
        _str(d, "source", "")
    _dict(d, "metadata", "", optional=True)
    _check_camera(d.get("camera"))
    objects = d.get("objects")
    if objects is None:
        return
    if type(objects) is not list:
        _fail("", "objects", "a list", objects)
    for i, o in enumerate(objects):
        _check_object(o, i)

