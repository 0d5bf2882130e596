"""Per-scene precomputation shared by every task (computed once, cached).

A ``SceneView`` holds, per object, the camera-frame centre (OpenCV: x right, y down,
z forward), the world centre (gravity-aligned, z up), size, volume, distance to the
camera, image position of the centre, front vectors, whether it may be asked about and
its unique reference (or its highlight box, ``highlights``) — as plain Python lists, so
that planning and realising a question costs microseconds.  Depth maps are memory-mapped and
cached per file (a mirrored scene reads the same array with columns reversed).
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from ..mirror import mirror_col
from ..pinhole import unproject_pixel
from . import thresholds
from .highlight import Highlight
from .pixel_sampling import sample_valid, valid_index
from .references import Ref, _adjectives, assign_highlights, compute_references, describe_unreferable
from .verified_refs import apply_reference_check
from ..files import read_depth
from ..scene import SceneError
from .plan import RealiseError

if TYPE_CHECKING:  # pragma: no cover
    from ..scene import Scene


def world_to_cam(p, R) -> tuple[float, float, float]:
    """Camera-frame coordinates of the world point ``p``: ``p @ R_world_cam`` as ``Camera.world_to_cam``
    computes it, in plain floats (a numpy call per point costs more than the arithmetic)."""
    return tuple(p[0] * R[0][j] + p[1] * R[1][j] + p[2] * R[2][j] for j in range(3))


def _norm_given(text: str) -> str:
    t = " ".join(text.strip().split())
    low = t.lower()
    if not low.startswith(("the ", "a ", "an ")):
        t = "the " + t
    return t


class SceneView:
    """Read-only geometry of one scene, indexed by object position ``i`` (``ids[i]`` is the id)."""

    def __init__(self, scene: "Scene") -> None:
        cam = scene.camera
        self.scene = scene
        self.W, self.H = cam.width, cam.height
        # the camera's principal point is ppx, ppy; object centres are x_cam, y_cam, z_cam
        self.fx, self.fy, self.ppx, self.ppy = cam.fx, cam.fy, cam.cx, cam.cy
        objs = scene.objects
        self.n = len(objs)
        self.ids = [o.id for o in objs]
        self.index = {oid: i for i, oid in enumerate(self.ids)}
        self.cat = [" ".join(o.category.replace("_", " ").split()).lower() for o in objs]
        self.size = [o.box3d.size for o in objs]
        self.yaw = [o.box3d.yaw for o in objs]
        self.shape = [o.shape for o in objs]
        self.front_w = [o.front for o in objs]
        self.adj_list = [_adjectives(o.attributes) for o in objs]
        self.adjs = [set(a) for a in self.adj_list]
        self.given = [{_norm_given(r) for r in o.references if r and r.strip()} for o in objs]
        self._set_centres(objs, cam.R_world_cam)
        reasons = self._set_visibility(objs)
        self._set_references(reasons)
        self.skipped = [(f"{scene.id}/object-{self.ids[i]}", r) for i, r in enumerate(reasons) if r is not None]
        self.ref_index: dict[str, Ref] | None = None
        self._depth: np.ndarray | None = None
        self._valid: np.ndarray | None = None  # flat indices of valid pixels, only built if needed
        self._has_valid: bool | None = None
        self._memos: dict[object, dict] = {}  # see ``memo``

    def _set_centres(self, objs, R) -> None:
        """Per object: centre in the world and camera frames, distance, volume and their logs,
        and ``t`` = x/z (the image column of the centre is ``fx * t + ppx``).  Plain Python floats:
        faster than numpy for ~10 objects, and the same values in every process."""
        self.x_world, self.y_world, self.z_world = ([o.box3d.center[k] for o in objs] for k in range(3))
        cam_xyz = [world_to_cam(o.box3d.center, R) for o in objs]
        self.x_cam, self.y_cam, self.z_cam = ([p[k] for p in cam_xyz] for k in range(3))
        self.dist = [math.sqrt(x * x + y * y + z * z) for x, y, z in cam_xyz]
        self.vol = [w * h * l for w, h, l in self.size]
        self.logvol = [math.log(max(v, 1e-27)) for v in self.vol]
        self.logh = [math.log(max(h, 1e-9)) for _, h, _ in self.size]
        self.t = [x / z if z > 0 else math.nan for x, _, z in cam_xyz]

    def _set_visibility(self, objs) -> list[str | None]:
        """``in_view`` (centre in front of the camera and in the image, or its 2D box overlaps
        it), ``visible`` and ``groups`` (visible objects by category) and ``ok`` (may be asked
        about); returns why each object may not be asked about (None when it may)."""
        n = self.n
        self.in_view = [False] * n
        self.ok = [False] * n
        reasons: list[str | None] = [None] * n
        for i, o in enumerate(objs):
            where = f"object {o.id} ({self.cat[i]})"
            z = self.z_cam[i]
            if z <= thresholds.MIN_DEPTH:
                reasons[i] = f"{where}: centre behind or too close to the camera (z = {z:.2f} m)"
                continue
            u = self.fx * self.t[i] + self.ppx
            v = self.fy * self.y_cam[i] / z + self.ppy
            inside = 0.0 <= u <= self.W and 0.0 <= v <= self.H
            if not inside and o.box2d is not None:
                x0, y0, x1, y1 = o.box2d
                inside = x1 > 0 and x0 < self.W and y1 > 0 and y0 < self.H and x1 > x0 and y1 > y0
            if not inside:
                reasons[i] = f"{where}: outside the image"
                continue
            self.in_view[i] = True
            s = self.size[i]
            if min(s) < thresholds.MIN_BOX_SIDE or max(s) > thresholds.MAX_BOX_SIDE:
                reasons[i] = f"{where}: degenerate 3D box (size {tuple(round(v, 4) for v in s)} m)"
            elif max(o.occlusion or 0.0, o.truncation or 0.0) >= thresholds.HARDLY_VISIBLE:
                reasons[i] = f"{where}: hardly visible (occlusion {o.occlusion}, truncation {o.truncation})"
            else:
                self.ok[i] = True
        self.visible = [i for i in range(n) if self.in_view[i]]
        self.groups: dict[str, list[int]] = {}
        for i in self.visible:
            self.groups.setdefault(self.cat[i], []).append(i)
        return reasons

    def _set_references(self, reasons: list[str | None]) -> None:
        """Each object's unique reference (``refs``, ``ref_text``) or highlight box, and the
        objects questions may name (``subjects``; ``fronted``: those with a front; ``boxed``: those
        with a 2D box).  Fills in ``reasons`` for objects that could be asked about but cannot be named."""
        n = self.n
        self.refs: list[Ref | None] = [None] * n
        compute_references(self)
        # fallback "the chair highlighted by the red box" (SPEC §3); see highlight.py
        self.highlights: list[Highlight] = []  # in object-index order
        self.highlight_cores: tuple[str, ...] = ()  # highlight texts without "the "
        self.no_box: dict[int, str] = {}
        for i, why in apply_reference_check(self).items():  # perceived scenes: verified phrases only
            self.ok[i], reasons[i] = False, why
        assign_highlights(self)
        self.ref_text = [None if r is None else r.text for r in self.refs]
        for i in range(n):
            if self.ok[i] and self.refs[i] is None:
                reasons[i] = describe_unreferable(self, i)
        self.subjects = [i for i in range(n) if self.ok[i] and self.refs[i] is not None]
        self.fronted = [i for i in self.subjects if self.front_w[i] is not None]
        self.boxed = [i for i in self.subjects if self.scene.objects[i].box2d is not None]  # with a 2D box

    # ------------------------------------------------------------------ depth
    @property
    def has_depth(self) -> bool:
        """A depth map, or a point map whose z channel is the depth."""
        return self.scene.depth_path is not None or self.scene.point_map_path is not None

    def depth(self) -> np.ndarray:
        """Raw z-depth as stored on disk (memory-mapped, read-only); raises SceneError."""
        if self._depth is None:
            self._depth = _load_depth(self.scene)
        return self._depth

    def depth_at(self, col: int, row: int) -> float:
        """z-depth of pixel [row, col] *of this view's image* (mirrored views read reversed columns)."""
        raw = self.depth()
        c = mirror_col(col, self.W) if self.scene.flipped else col
        return float(raw[row, c])

    def has_valid_depth(self) -> bool:
        """Whether any pixel has a valid depth: three pixels, then a 16x16 grid, the full index
        only if both miss (the answer is kept: tasks ask once per question)."""
        if self._has_valid is None:
            self._has_valid = self._find_valid_depth()
        return self._has_valid

    def _find_valid_depth(self) -> bool:
        raw = self.depth()
        h, w = raw.shape
        if any(float(raw[r, c]) > 0 and float(raw[r, c]) != float("inf")
               for r, c in ((h // 2, w // 2), (h // 4, w // 4), (3 * h // 4, 3 * w // 4))):
            return True  # the grid below touches 16 pages of the mapped file
        grid = raw[:: max(1, h // 16), :: max(1, w // 16)]
        return bool(np.any(np.isfinite(grid) & (grid > 0))) or len(self._valid_index()) > 0

    def valid_pixel(self, rs) -> tuple[int, int] | None:
        """A valid-depth pixel (col, row) of this view's image, uniform over the valid pixels,
        drawn from the stream ``rs``; None if there is none (``pixel_sampling.sample_valid``)."""
        hit = sample_valid(self.depth(), rs, self._valid_index)
        if hit is None:
            return None
        col, row = hit
        return (mirror_col(col, self.W) if self.scene.flipped else col), row

    def _valid_index(self) -> np.ndarray:
        if self._valid is None:
            self._valid = valid_index(self.depth())
        return self._valid

    def unproject(self, col: int, row: int, z: float) -> tuple[float, float, float]:
        """Camera-frame point of pixel [row, col]'s centre at z-depth ``z``."""
        return unproject_pixel(col, row, z, self.fx, self.fy, self.ppx, self.ppy)

    # ------------------------------------------------------------------ helpers
    def memo(self, name: object) -> dict:
        """A dict kept with this view under ``name``, for results that depend only on the view
        (which never changes) and the key they are stored under, e.g. a task's answer class of a
        candidate object triple (``plan.balanced_choice(memo=...)``)."""
        d = self._memos.get(name)
        if d is None:
            d = self._memos[name] = {}
        return d

    def ref(self, i: int) -> str:
        r = self.ref_text[i]
        if r is None:
            raise RealiseError(f"scene {self.scene.id!r}: object {self.ids[i]} has no unique reference in this view")
        return r

    def idx(self, object_id: int) -> int:
        try:
            return self.index[object_id]
        except KeyError:
            raise RealiseError(f"scene {self.scene.id!r} has no object {object_id}") from None

    def center_cam(self, i: int) -> tuple[float, float, float]:
        return (self.x_cam[i], self.y_cam[i], self.z_cam[i])

    def horizontal_front(self, i: int) -> tuple[float, float] | None:
        """Unit horizontal (world x, y) front of object i, or None if it has none or it is not level."""
        f = self.front_w[i]
        if f is None:
            return None
        h = math.hypot(f[0], f[1])
        if h < math.sqrt(1 - thresholds.FRONT_LEVEL**2):
            return None
        return (f[0] / h, f[1] / h)


# ---------------------------------------------------------------------- caches
_VIEWS: "OrderedDict[int, SceneView]" = OrderedDict()
_VIEW_CACHE_SIZE = 64
_DEPTHS: "OrderedDict[str, np.ndarray]" = OrderedDict()
_DEPTH_CACHE_SIZE = 8


def get_view(scene: "Scene") -> SceneView:
    """The (cached) view of ``scene``; the cache holds the scene, so ids are never reused."""
    key = id(scene)
    v = _VIEWS.get(key)
    if v is not None and v.scene is scene:
        _VIEWS.move_to_end(key)
        return v
    v = SceneView(scene)
    _VIEWS[key] = v
    if len(_VIEWS) > _VIEW_CACHE_SIZE:
        _VIEWS.popitem(last=False)
    return v


def _load_depth(scene: "Scene") -> np.ndarray:
    """z-depth as stored on disk, from the depth map or else the z channel of the point map
    (camera frame), memory-mapped and cached per file: a question reads a few pixels, so only
    the pages it touches are read (the whole 1.2 MB file was ~30 % of a 20-QA scene's time)."""
    rel = scene.depth_path if scene.depth_path is not None else scene.point_map_path
    if rel is None:
        raise SceneError(f"scene {scene.id!r}: has no depth or point map file")
    path = str(scene._path(rel))
    try:
        st = os.stat(path)
        key = f"{path}|{st.st_mtime_ns}|{st.st_size}"
    except OSError:
        key = path  # the readers raise the proper error below
    raw = _DEPTHS.get(key)
    if raw is None:
        hw = (scene.camera.height, scene.camera.width)
        if scene.depth_path is not None:
            raw = read_depth(path, scene.id, hw, mmap=True)
        else:
            raw = _read_point_map_z(path, scene.id, hw)
        raw = raw.view(np.ndarray)  # plain indexing (np.memmap wraps every item access)
        _DEPTHS[key] = raw
        if len(_DEPTHS) > _DEPTH_CACHE_SIZE:
            _DEPTHS.popitem(last=False)
    else:
        _DEPTHS.move_to_end(key)
    return raw


def _read_point_map_z(path: str, scene_id: str, hw: tuple[int, int]) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError, EOFError) as e:
        raise SceneError(f"scene {scene_id!r}: point map {path} is unreadable ({e})") from None
    if arr.ndim != 3 or arr.shape[2] != 3 or tuple(arr.shape[:2]) != hw:
        raise SceneError(f"scene {scene_id!r}: point map {path} must be {hw[0]}x{hw[1]}x3, got {arr.shape}")
    z = arr[..., 2]  # a strided view of the mapped file: nothing is read yet
    return z if z.dtype == np.float32 else z.astype(np.float32)


def clear_caches() -> None:
    _VIEWS.clear()
    _DEPTHS.clear()
