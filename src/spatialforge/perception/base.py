"""What each perception stage takes and returns, and the backend registry.

A backend is a class: its constructor loads the model (once), and ``__call__`` takes a
batch (a list of ``ImageItem``) and returns one result per item, in order.  That shape lets
the same class run in-process or, later, as a Ray Data actor.  A backend raises
``DataError`` for an item it cannot process (the caller retries the batch item by item and
records the failing image as skipped); anything else is a bug and propagates.

Conventions (docs/conventions.md): camera frame OpenCV (x right, y down, z forward), metres;
pixel [row, col] has its centre at (col + 0.5, row + 0.5); boxes are (x0, y0, x1, y1) pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from ..errors import ConfigError
from ..pinhole import unproject_pixel

KINDS = ("photo_filter", "geometry", "tagging", "detection", "segmentation", "gravity", "orientation")


@dataclass(frozen=True)
class ImageItem:
    """One image going through perception: ``id`` (the file stem, later the scene id) and
    its pixels as (H, W, 3) uint8 RGB."""

    id: str
    rgb: np.ndarray

    @property
    def hw(self) -> tuple[int, int]:
        return int(self.rgb.shape[0]), int(self.rgb.shape[1])


@dataclass
class GeometryResult:
    """Metric geometry of one image: ``points`` (H, W, 3) camera frame in metres, ``depth``
    (H, W) z-depth in metres, ``valid`` (H, W) bool, ``K`` the 3x3 intrinsics."""

    points: np.ndarray
    depth: np.ndarray
    valid: np.ndarray
    K: np.ndarray


@dataclass
class Detections:
    """Boxes (N, 4) float (x0, y0, x1, y1) pixels, scores (N,), labels (N category names).

    ``extras``: per detection, optional fields copied onto the object (only oracles fill
    them: ``id``, ``shape``, ``attributes``, ``references``, ``occlusion``, ``truncation``)."""

    boxes: np.ndarray
    scores: np.ndarray
    labels: list[str]
    extras: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        self.labels = list(self.labels)
        if not self.extras:
            self.extras = [{} for _ in self.labels]
        n = len(self.labels)
        if self.boxes.shape[0] != n or self.scores.shape[0] != n or len(self.extras) != n:
            raise ValueError(f"detections: {self.boxes.shape[0]} boxes, {self.scores.shape[0]} scores, "
                             f"{n} labels, {len(self.extras)} extras")

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, keep: Sequence[int] | np.ndarray) -> "Detections":
        keep = [int(i) for i in keep]
        return Detections(self.boxes[keep], self.scores[keep], [self.labels[i] for i in keep],
                          [self.extras[i] for i in keep])


class PhotoFilterBackend(Protocol):
    """Returns, per image, None to keep it or the reason it is not a usable photo."""

    def __call__(self, images: list[ImageItem]) -> list[str | None]: ...


class GeometryBackend(Protocol):
    def __call__(self, images: list[ImageItem]) -> list[GeometryResult]: ...


class TaggingBackend(Protocol):
    def __call__(self, images: list[ImageItem]) -> list[list[str]]: ...


class DetectionBackend(Protocol):
    def __call__(self, images: list[ImageItem], vocabularies: list[list[str]]) -> list[Detections]: ...


class SegmentationBackend(Protocol):
    """Returns, per image, an (N, H, W) bool array: one mask per input box."""

    def __call__(self, images: list[ImageItem], boxes: list[np.ndarray]) -> list[np.ndarray]: ...


# --------------------------------------------------------------------------- registry
BACKENDS: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}


def register(kind: str, name: str) -> Callable[[type], type]:
    """Class decorator: make a backend available as ``name`` for stage ``kind``."""
    if kind not in BACKENDS:
        raise ValueError(f"unknown stage kind {kind!r}; kinds: {', '.join(KINDS)}")

    def deco(cls: type) -> type:
        if name in BACKENDS[kind]:
            raise ValueError(f"{kind} backend {name!r} is already registered")
        cls.backend_name = name
        BACKENDS[kind][name] = cls
        return cls

    return deco


def backend_class(kind: str, name: str) -> type:
    """The registered class, or ConfigError naming the valid choices."""
    _load_builtin()
    if kind not in BACKENDS:
        raise ConfigError(f"unknown perception stage {kind!r}; stages: {', '.join(KINDS)}")
    try:
        return BACKENDS[kind][name]
    except KeyError:
        raise ConfigError(f"unknown {kind} backend {name!r}; valid: {', '.join(sorted(BACKENDS[kind]))}") from None


def _load_builtin() -> None:
    from . import gravity, hf, moge, orientation, oracle, segment, sensor, tagging, verify, vlm_grounder  # noqa: F401


def mask_to_box(mask: np.ndarray) -> np.ndarray | None:
    """(x0, y0, x1, y1) pixel bounds of a mask's pixels (edges, not centres), None if empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)


def intrinsics_from_fov(width: int, height: int, hfov_deg: float) -> np.ndarray:
    """Pinhole K with square pixels and the principal point at the image centre."""
    f = (width / 2.0) / np.tan(np.radians(hfov_deg) / 2.0)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def unproject_depth(depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(H, W, 3) camera-frame points of a z-depth map, rays through pixel centres."""
    H, W = depth.shape
    x, y, _ = unproject_pixel(np.arange(W, dtype=np.float64)[None, :], np.arange(H, dtype=np.float64)[:, None],
                              depth, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
    return np.stack([x, y, depth.astype(np.float64)], axis=-1).astype(np.float32)
