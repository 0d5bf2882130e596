"""Headless pyrender rendering of a layout: lit RGB, metric z-depth, instance ids, silhouettes.

One ``OffscreenRenderer`` lives per process and is resized between passes: a pyrender
scene's GPU buffers belong to one GL context, so every pass over a scene (reference-size
visibility check, RGB, segmentation, per-object silhouettes) must share one renderer.
Creating it is the slow part; resizing only reallocates framebuffers.

The RGB pass is multisampled (anti-aliased edges).  Depth and ids come from pyrender's
segmentation pass, which disables multisampling, so each pixel holds the surface hit by
the ray through its centre: depth and ids agree exactly with ``Camera.unproject``.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # headless by default; must precede PyOpenGL

from ...extras import require

require("render", "rendering synthetic scenes")  # name the extra, not just the missing module
import numpy as np  # noqa: E402
import trimesh  # noqa: E402

from ...scene import Camera
from .catalog import srgb_to_linear
from .layout import Layout
from .meshes import object_parts

ZNEAR, ZFAR = 0.05, 60.0
_BACKGROUND = (0.86, 0.89, 0.93, 1.0)  # beyond the floor when no wall closes the view
_TILE = 1.0  # floor checker tile, metres
_PLATFORMS = ("egl", "osmesa")
_state: dict[str, Any] = {"pyrender": None, "renderer": None, "pid": None}


class RendererUnavailable(RuntimeError):
    """No headless OpenGL platform works on this machine."""


def _purge_gl_modules() -> None:
    # PyOpenGL binds its platform at import time: forget it before trying another.
    for name in [m for m in sys.modules if m in ("OpenGL", "pyrender") or m.startswith(("OpenGL.", "pyrender."))]:
        del sys.modules[name]


def _renderer(width: int, height: int) -> Any:
    """The process-wide offscreen renderer, sized (width, height); EGL first, then OSMesa."""
    if _state["renderer"] is None or _state["pid"] != os.getpid():
        errors = []
        first = os.environ.get("PYOPENGL_PLATFORM", "egl")
        for platform in dict.fromkeys((first,) + _PLATFORMS):
            if errors:
                _purge_gl_modules()
            os.environ["PYOPENGL_PLATFORM"] = platform
            try:
                import pyrender

                renderer = pyrender.OffscreenRenderer(width, height)
            except Exception as e:  # noqa: BLE001 - any failure means "try the next platform"
                errors.append(f"{platform}: {type(e).__name__}: {e}")
                continue
            renderer._renderer._sorted_mesh_nodes = _sorted_mesh_nodes
            _state.update(pyrender=pyrender, renderer=renderer, pid=os.getpid())
            break
        else:
            raise RendererUnavailable(
                "headless OpenGL rendering is unavailable (" + "; ".join(errors) + "). Install the EGL "
                "library (Debian: libegl1) or OSMesa (Debian: libosmesa6, then pip install 'pyopengl>=3.1.10' "
                "and set PYOPENGL_PLATFORM=osmesa)."
            )
    r = _state["renderer"]
    r.viewport_width, r.viewport_height = int(width), int(height)
    return r


def _sorted_mesh_nodes(scene: Any) -> list:
    """pyrender's draw order (far to near) with ties broken by node name.  pyrender keeps
    mesh nodes in a set and its stable sort leaves equal distances (floor and walls share a
    pose) in set order, which varies between runs and flips z-fighting pixels: same seed,
    different bytes.  A total order keeps renders byte-identical."""
    cam = scene.get_pose(scene.main_camera_node)[:3, 3]

    def key(n: Any) -> tuple:
        return (n.mesh.is_transparent, -float(np.linalg.norm(scene.get_pose(n)[:3, 3] - cam)), n.name or "")

    return sorted(scene.mesh_nodes, key=key)


def backend() -> str:
    """The PyOpenGL platform in use ("egl" or "osmesa"), initialising it if needed."""
    _renderer(8, 8)
    return os.environ["PYOPENGL_PLATFORM"]


# --------------------------------------------------------------------------- scene building
@dataclass(frozen=True)
class Lighting:
    """Lambert lighting baked into vertex colours (so the RGB pass runs pyrender's cheap
    unlit shader): hemispheric ambient, a sun, and a fill light from behind the camera."""

    sun: np.ndarray  # unit world vector towards the sun
    fill: np.ndarray  # unit world vector towards the fill light
    ambient: float = 0.28
    sky: float = 0.14  # extra ambient on faces turned up
    sun_power: float = 0.72
    fill_power: float = 0.32

    def shade(self, rgb: tuple[int, int, int], normals: np.ndarray, R: np.ndarray) -> np.ndarray:
        """sRGB colours in [0, 1] for unit ``normals`` given in a frame turned by ``R`` (local->world)."""
        n = normals @ R.T
        light = (self.ambient + self.sky * n[:, 2] + self.sun_power * np.clip(n @ self.sun, 0, None)
                 + self.fill_power * np.clip(n @ self.fill, 0, None))
        linear = np.asarray(srgb_to_linear(rgb))[None, :] * light[:, None]
        return np.clip(linear, 0.0, 1.0) ** (1 / 2.2)  # same gamma as pyrender's lit shader


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-20)


def _primitive(pr: Any, vertices: np.ndarray, faces: np.ndarray, smooth: bool, rgb: tuple[int, int, int],
               lighting: Lighting, R: np.ndarray, material: Any) -> Any:
    if smooth:
        normals = _unit(np.asarray(trimesh.Trimesh(vertices, faces, process=False).vertex_normals))
        return pr.Primitive(positions=vertices, indices=faces, color_0=lighting.shade(rgb, normals, R),
                            material=material)
    tri = vertices[faces]  # (F, 3, 3): unshared vertices give flat faces
    n = _unit(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]))
    colors = np.repeat(lighting.shade(rgb, n, R), 3, axis=0)
    return pr.Primitive(positions=tri.reshape(-1, 3), color_0=colors, material=material)


def _merge(parts: list) -> list[tuple[np.ndarray, np.ndarray, tuple[int, int, int], bool]]:
    """Concatenate an object's flat parts of one colour: fewer draw calls and uploads."""
    groups: dict[tuple, list] = {}
    out = []
    for p in parts:
        if p.smooth:
            out.append((p.vertices, p.faces, p.color, True))
        else:
            groups.setdefault(p.color, []).append(p)
    for color, ps in groups.items():
        offsets = np.cumsum([0] + [len(p.vertices) for p in ps[:-1]])
        v = np.concatenate([p.vertices for p in ps])
        f = np.concatenate([p.faces + o for p, o in zip(ps, offsets)])
        out.append((v, f, color, False))
    return out


def _quads(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Upward-facing rectangles -> (vertices, faces)."""
    v = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1), np.stack([x0, y1], 1)], 1)
    v = np.concatenate([v, np.full(v.shape[:2] + (1,), z)], -1).reshape(-1, 3)
    k = np.arange(len(x0))[:, None] * 4
    faces = np.concatenate([k + [0, 1, 2], k + [0, 2, 3]]).astype(np.int64)
    return v, faces


def _floor_primitives(pr: Any, layout: Layout, lighting: Lighting, material: Any) -> list[Any]:
    room = layout.room
    xs = np.arange(math.floor(room.xmin / _TILE), math.ceil(room.xmax / _TILE)) * _TILE
    ys = np.arange(math.floor(room.ymin / _TILE), math.ceil(room.ymax / _TILE)) * _TILE
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys, indexing="ij"))
    x0, x1 = np.maximum(gx, room.xmin), np.minimum(gx + _TILE, room.xmax)
    y0, y1 = np.maximum(gy, room.ymin), np.minimum(gy + _TILE, room.ymax)
    parity = (np.round(gx / _TILE) + np.round(gy / _TILE)).astype(int) % 2
    prims = []
    for k in (0, 1):
        sel = parity == k
        v, f = _quads(x0[sel], x1[sel], y0[sel], y1[sel], room.floor_z)
        prims.append(_primitive(pr, v, f, False, room.floor_colors[k], lighting, np.eye(3), material))
    return prims


def _wall_boxes(layout: Layout) -> list[tuple[trimesh.Trimesh, tuple[int, int, int]]]:
    """Walls and baseboards, all outside the room's free space, so they never hide objects."""
    r, t = layout.room, 0.1
    z0, z1 = r.floor_z, r.floor_z + r.wall_height
    base = tuple(int(0.6 * c) for c in r.wall_color)
    spans = {
        "back": ((r.xmin - t, r.xmax + t), (r.ymax, r.ymax + t), (r.ymax - 0.012, r.ymax)),
        "left": ((r.xmin - t, r.xmin), (r.ymin, r.ymax + t), (r.xmin, r.xmin + 0.012)),
        "right": ((r.xmax, r.xmax + t), (r.ymin, r.ymax + t), (r.xmax - 0.012, r.xmax)),
    }
    out = []
    for wall in r.walls:
        (x0, x1), (y0, y1), inner = spans[wall]
        out.append((trimesh.creation.box(bounds=[[x0, y0, z0], [x1, y1, z1]]), r.wall_color))
        bx, by = ((x0, x1), inner) if wall == "back" else (inner, (y0, y1))
        out.append((trimesh.creation.box(bounds=[[bx[0], by[0], z0], [bx[1], by[1], z0 + 0.08]]), base))
    return out


class SceneRenderer:
    """A layout turned into a pyrender scene, rendered through any ``Camera`` of its rig."""

    def __init__(self, layout: Layout) -> None:
        _renderer(8, 8)  # make sure a working GL platform is loaded before using pyrender
        pr = _state["pyrender"]
        self.pr, self.layout = pr, layout
        el, az = layout.light_elevation, layout.light_azimuth
        sun = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        fill = _unit(-layout.rig.rotation()[:, 2] + np.array([0.0, 0.0, 0.6]))
        lighting = Lighting(sun, fill)
        white = pr.MetallicRoughnessMaterial(baseColorFactor=(1.0, 1.0, 1.0, 1.0), metallicFactor=0.0)
        self.scene = pr.Scene(bg_color=_BACKGROUND)
        self.static_nodes = [self.scene.add(pr.Mesh(_floor_primitives(pr, layout, lighting, white)), name="floor")]
        for k, (box, color) in enumerate(_wall_boxes(layout)):
            prim = _primitive(pr, np.asarray(box.vertices), np.asarray(box.faces), False, color, lighting,
                              np.eye(3), white)
            self.static_nodes.append(self.scene.add(pr.Mesh([prim]), name=f"wall-{k}"))
        self.object_nodes = []
        for obj in layout.objects:
            parts = object_parts(obj.category, obj.size, obj.color,
                                 np.random.default_rng([layout.detail_seed, obj.id]))
            pose = obj.pose()
            prims = [_primitive(pr, v, f, smooth, color, lighting, pose[:3, :3], white)
                     for v, f, color, smooth in _merge(parts)]
            self.object_nodes.append(self.scene.add(pr.Mesh(prims), pose=pose, name=f"object-{obj.id:04d}"))
        self.cam = pr.IntrinsicsCamera(1.0, 1.0, 0.0, 0.0, znear=ZNEAR, zfar=ZFAR)
        pose = np.eye(4)
        pose[:3, :3] = layout.rig.rotation() @ np.diag([1.0, -1.0, -1.0])  # OpenCV -> OpenGL camera axes
        self.scene.add(self.cam, pose=pose)
        seg = {n: (0, 0, 0) for n in self.static_nodes}  # floor and walls: drawn (they hide) as id -1
        seg.update({n: ((k + 1) % 256, (k + 1) // 256, 0) for k, n in enumerate(self.object_nodes)})
        self._seg_map = seg
        self._seg_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def _set(self, camera: Camera, scale: float = 1.0, shift: tuple[int, int] = (0, 0),
             viewport: tuple[int, int] | None = None) -> Any:
        c = self.cam
        c.fx, c.fy = camera.fx * scale, camera.fy * scale
        c.cx, c.cy = camera.cx * scale - shift[0], camera.cy * scale - shift[1]
        w, h = viewport or (camera.width, camera.height)
        return _renderer(w, h)

    def rgb(self, camera: Camera) -> np.ndarray:
        """(H, W, 3) uint8, shaded (baked lighting) and anti-aliased."""
        color, _ = self._set(camera).render(self.scene, self.pr.RenderFlags.FLAT)
        return np.ascontiguousarray(color[:, :, :3])

    def segment(self, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
        """(ids (H, W) int32 with -1 for floor/walls/background, depth (H, W) float32 metres, 0 = empty)."""
        key = (camera.fx, camera.fy, camera.cx, camera.cy, camera.width, camera.height)
        if key not in self._seg_cache:  # the visibility check and the output often share a size
            flags = self.pr.RenderFlags.SEG
            color, depth = self._set(camera).render(self.scene, flags, self._seg_map)
            ids = color[:, :, 0].astype(np.int32) + 256 * color[:, :, 1].astype(np.int32) - 1
            self._seg_cache[key] = (ids, np.ascontiguousarray(depth, dtype=np.float32))
        return self._seg_cache[key]

    def silhouette(self, object_id: int, camera: Camera, scale: float, shift: tuple[int, int],
                   viewport: tuple[int, int]) -> np.ndarray:
        """(h, w) bool mask of one object rendered alone, through ``camera`` scaled by ``scale``
        and shifted so scaled pixel (shift[0], shift[1]) lands at the viewport's top-left."""
        flags = self.pr.RenderFlags.SEG | self.pr.RenderFlags.DEPTH_ONLY
        node = self.object_nodes[object_id]
        depth = self._set(camera, scale, shift, viewport).render(self.scene, flags, {node: (1, 1, 1)})
        return depth > 0
