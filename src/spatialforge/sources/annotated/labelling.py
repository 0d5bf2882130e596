"""HiSpatial's CA-1M labelling (§3.2, §7): CA-1M boxes are class-agnostic ("object"), so
detector boxes are matched to the ground-truth 2D boxes by the Hungarian algorithm on IoU
(``scipy.optimize.linear_sum_assignment``); a pair with IoU >= 0.4 gives the object the
detector's label.  Unmatched objects stay "object": the task engine refers to them by a
highlighted box or skips them (tasks/references.py), as it does for any scene.

Detections are JSON: ``{"<scene id>": [{"box": [x0, y0, x1, y1], "label": "chair",
"score": 0.9}, ...], ...}`` in the scene image's pixels (any detector, e.g. the perception
backends' output).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from ...errors import ConfigError
from ...scene import Scene

MIN_IOU = 0.4
GENERIC = frozenset({"object"})


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of (N, 4) and (M, 4) boxes (x0, y0, x1, y1)."""
    a, b = np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def load_detections(path: str | Path) -> dict[str, list[dict]]:
    """The detections file, checked; a bad file is a ``ConfigError`` naming the entry."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"detections {path}: unreadable ({e})") from None
    if not isinstance(d, dict):
        raise ConfigError(f"detections {path}: expected an object mapping scene ids to lists")
    for sid, dets in d.items():
        if not isinstance(dets, list):
            raise ConfigError(f"detections {path}: {sid!r} must map to a list")
        for n, det in enumerate(dets):
            box = det.get("box") if isinstance(det, dict) else None
            ok = (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)
                  and box[2] > box[0] and box[3] > box[1] and isinstance(det.get("label"), str) and det["label"].strip())
            if not ok:
                raise ConfigError(f"detections {path}: {sid!r}[{n}] needs a box [x0, y0, x1, y1] with "
                                  f"x0 < x1, y0 < y1 and a non-empty label, got {det!r}")
    return d


def label_scene(scene: Scene, detections: list[dict], min_iou: float = MIN_IOU) -> Scene:
    """``scene`` with generic objects renamed after their matched detection; the matches are
    recorded in ``metadata.labelling`` (object id -> label, IoU, score)."""
    objs = [o for o in scene.objects if o.box2d is not None]
    if not objs or not detections:
        return scene
    iou = iou_matrix([o.box2d for o in objs], [d["box"] for d in detections])
    rows, cols = linear_sum_assignment(iou, maximize=True)
    renamed, record = {}, {}
    for r, c in zip(rows, cols):
        if iou[r, c] < min_iou:
            continue
        o, det = objs[r], detections[c]
        record[str(o.id)] = {"label": det["label"], "iou": round(float(iou[r, c]), 4), "score": det.get("score")}
        if o.category in GENERIC:
            renamed[o.id] = det["label"].strip()
    meta = dict(scene.metadata, labelling=record)
    out = scene.with_objects(replace(o, category=renamed.get(o.id, o.category)) for o in scene.objects)
    return replace(out, metadata=meta)
