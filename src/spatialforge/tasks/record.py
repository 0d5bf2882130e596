"""The QA record: one question about one scene, with its answer stored twice.

``answer`` is the text a model should produce; ``answer_struct`` is the same answer as
a typed value so evaluation and rewards never re-parse our own text:

=============  ==========================================================
``kind``       ``value``
=============  ==========================================================
length         float, metres
point3d        [x, y, z] metres, camera frame
vector3d       [x, y, z] unit vector, camera frame
box3d          {"center": [x, y, z], "size": [w, h, l], "yaw": rad}
choice         letter "A".."D" (the options are in ``choices``)
boolean        true / false
count          int
label          str (a label of the task's set, such as "left", "toward", "A", or an object
               reference); free-form records also store the set in ``labels``
clock          int hour 1..12 (12 = straight ahead, 3 = right; "3 o'clock")
order          list of str (object references, first to last)
=============  ==========================================================

Extra keys beside ``kind`` and ``value``: ``labels`` (label answers, free format: every label
of the task's label set, the vocabulary evaluation parses an answer against, so a wrong label
of the set scores as wrong rather than unparsable), ``object_id`` / ``object_ids`` (answers
naming objects).

``eval_type`` names the metric family evaluation uses (see ``spatialforge.eval``):
``numeric`` (ratio/sMAPE), ``point3d``, ``vector3d`` (angle), ``box3d`` (IoU), ``choice``,
``yesno``, ``count``, ``label``, ``order``, ``clock`` (exact hour; also hours off),
``open`` (judge / sBERT).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import orjson

Format = Literal["free", "mcq", "tf"]
View = Literal["original", "mirrored"]
FORMATS: tuple[str, ...] = ("free", "mcq", "tf")
EVAL_TYPES = ("numeric", "point3d", "vector3d", "box3d", "choice", "yesno", "count", "label", "order", "clock",
              "open")


_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY


def to_json(value: Any) -> str:
    """Canonical JSON (sorted keys) of a record's nested value, as stored in Parquet.

    orjson, not ``json``: records carry float-heavy metadata (typed options, claims), which
    ``json.dumps`` writes ~6x slower; both give the same values back through ``json.loads``.
    Keys that are not strings (numbers) are written as their text; orjson only accepts them
    with ``OPT_NON_STR_KEYS``, which makes every call slower (0.55 -> 0.8 us a meta dict), so
    that option is used only for the values that need it.
    """
    try:
        return orjson.dumps(value, option=_JSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(value, option=_JSON_OPTIONS | orjson.OPT_NON_STR_KEYS).decode()


@dataclass
class QARecord:
    """One QA record.  Treated as immutable (build changed copies with ``dataclasses.replace``);
    not ``frozen`` only because frozen dataclasses construct ~4x slower and the engine builds
    tens of thousands a second."""

    id: str
    scene_id: str
    question: str
    answer: str
    answer_struct: dict[str, Any]  # {"kind": ..., "value": ...}
    task: str
    level: int
    format: str
    eval_type: str
    object_ids: tuple[int, ...] = ()
    choices: tuple[str, ...] = ()  # MCQ option texts, in letter order
    reasoning: str = ""  # short trace built from scene facts (problem solving)
    pair_id: str = ""
    view: str = "original"
    image_path: str = ""  # absolute or relative to the dataset root
    flipped: bool = False  # image must be flipped when read (mirrored view)
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"unit": "cm", "template": 3}

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"record {self.id}: format must be one of {FORMATS}, got {self.format!r}")
        if self.eval_type not in EVAL_TYPES:
            raise ValueError(f"record {self.id}: eval_type must be one of {EVAL_TYPES}, got {self.eval_type!r}")
        if self.view not in ("original", "mirrored"):
            raise ValueError(f"record {self.id}: view must be 'original' or 'mirrored'")
        if "kind" not in self.answer_struct or "value" not in self.answer_struct:
            raise ValueError(f"record {self.id}: answer_struct needs 'kind' and 'value'")

    def to_row(self) -> dict[str, Any]:
        """Flat row for Parquet: nested values as JSON strings (stable across readers)."""
        row = {k: getattr(self, k) for k in _FIELDS}  # not asdict: it deep-copies every value
        row["answer_struct"] = to_json(self.answer_struct)
        row["meta"] = to_json(self.meta)
        row["object_ids"] = list(self.object_ids)
        row["choices"] = list(self.choices)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "QARecord":
        d = {k: row[k] for k in cls.__dataclass_fields__ if k in row}
        for key in ("answer_struct", "meta"):
            if isinstance(d.get(key), str):
                d[key] = json.loads(d[key])
        d["object_ids"] = tuple(d.get("object_ids") or ())
        d["choices"] = tuple(d.get("choices") or ())
        return cls(**d)


_FIELDS = tuple(f.name for f in fields(QARecord))
