"""Hand-built scenes for the task-engine tests (no renderer involved)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from spatialforge.scene import Box3D, Camera, Object3D, Scene

W, H = 640, 480


def camera(pitch_deg: float = 0.0, roll_deg: float = 0.0, cx: float = 320.0) -> Camera:
    """A camera pitched down by ``pitch_deg`` and rolled by ``roll_deg``."""
    t, r = math.radians(pitch_deg), math.radians(roll_deg)
    x = np.array([1.0, 0.0, 0.0])
    z = np.array([0.0, math.cos(t), -math.sin(t)])
    y = np.cross(z, x)
    R = np.stack([x, y, z], axis=1)  # columns: camera axes in world
    c, s = math.cos(r), math.sin(r)
    R = R @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return Camera(500.0, 500.0, cx, 240.0, W, H, tuple(map(tuple, R.tolist())))


def write_depth(tmp_path: Path, name: str = "depth.npy", seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    rows = np.arange(H, dtype=np.float32)[:, None]
    cols = np.arange(W, dtype=np.float32)[None, :]
    d = 1.0 + 6.0 * (rows / H) + 0.5 * np.sin(cols / 37.0) + rng.uniform(0, 0.2, (H, W)).astype(np.float32)
    d[:5, :5] = 0.0  # a few invalid pixels
    d[100, 200] = np.nan
    np.save(tmp_path / name, d.astype(np.float32))
    return name


def obj(i: int, cat: str, center, size, yaw: float = 0.0, color: str | None = None, front=None, **kw) -> Object3D:
    attrs = {"color": color} if color else {}
    return Object3D(i, cat, Box3D(tuple(center), tuple(size), yaw), attributes=attrs, front=front, **kw)


def rich_scene(root: Path | None = None, scene_id: str = "rich", pitch: float = 12.0) -> Scene:
    """Ten objects: unique categories, colour-distinguished mugs, position-distinguished chairs
    (three in a row), fronts, stacked and floor objects.  Floor at z = -1.4 (world)."""
    f = -1.4
    s2 = math.sqrt(0.5)
    objects = (
        obj(0, "sofa", (-1.6, 4.5, f + 0.42), (2.0, 0.84, 0.9), 0.1, "blue", front=(0.0, -1.0, 0.0)),
        obj(1, "table", (0.4, 3.2, f + 0.37), (1.2, 0.74, 0.7), 0.0, "brown"),
        obj(2, "chair", (-0.9, 2.4, f + 0.45), (0.5, 0.9, 0.5), 0.0, "red", front=(1.0, 0.0, 0.0)),
        obj(3, "chair", (0.3, 2.5, f + 0.45), (0.5, 0.9, 0.5), 0.0, "red", front=(0.0, 1.0, 0.0)),
        obj(4, "chair", (1.5, 2.6, f + 0.45), (0.5, 0.9, 0.5), 0.0, "red", front=(-s2, -s2, 0.0)),
        obj(5, "mug", (0.2, 3.1, f + 0.79), (0.11, 0.1, 0.08), 0.0, "red"),
        obj(6, "mug", (0.6, 3.3, f + 0.79), (0.11, 0.1, 0.08), 0.0, "white"),
        obj(7, "lamp", (2.2, 5.0, f + 0.75), (0.4, 1.5, 0.4), 0.0, "black"),
        obj(8, "monitor", (0.5, 3.35, f + 0.95), (0.6, 0.42, 0.2), 0.0, "black", front=(0.0, -1.0, 0.0)),
        obj(9, "box", (-2.2, 3.0, f + 0.2), (0.5, 0.4, 0.4), 0.3, "brown"),
    )
    depth = None
    if root is not None:
        depth = write_depth(Path(root))
    return Scene(scene_id, "image.png", camera(pitch), objects, depth_path=depth,
                 root=None if root is None else str(root))


def twin_scene(root: Path | None = None, scene_id: str = "twin") -> Scene:
    """Objects that no reference tells apart: two identical red chairs 3 cm apart (0: no box2d,
    its 3D box is projected; 1: a box2d), two identical vases 2 cm apart whose box2d are only
    5 px wide (no usable 2D box: still unreferable), plus uniquely named objects (a sofa and a
    table with fronts, a lamp, a box).  Floor at z = -1.4 (world)."""
    f = -1.4
    objects = (
        obj(0, "chair", (0.4, 3.0, f + 0.45), (0.5, 0.9, 0.5), 0.0, "red", front=(0.0, -1.0, 0.0)),
        obj(1, "chair", (0.43, 3.02, f + 0.45), (0.5, 0.9, 0.5), 0.0, "red", front=(0.0, -1.0, 0.0),
            box2d=(330.5, 240.0, 421.25, 372.0)),
        obj(2, "lamp", (1.6, 4.0, f + 0.75), (0.4, 1.5, 0.4), 0.0, "black"),
        obj(3, "vase", (-1.2, 3.5, f + 0.9), (0.2, 0.3, 0.2), box2d=(150.0, 200.0, 155.0, 230.0)),
        obj(4, "vase", (-1.22, 3.51, f + 0.9), (0.2, 0.3, 0.2), box2d=(149.0, 200.0, 154.0, 230.0)),
        obj(5, "sofa", (-1.8, 5.0, f + 0.42), (2.0, 0.84, 0.9), 0.1, "blue", front=(1.0, 0.0, 0.0)),
        obj(6, "table", (1.0, 2.6, f + 0.37), (1.2, 0.74, 0.7), 0.0, "brown", front=(-1.0, 0.0, 0.0)),
        obj(7, "box", (-0.6, 2.2, f + 0.2), (0.5, 0.4, 0.4), 0.3, "brown"),
    )
    depth = write_depth(Path(root), "twin_depth.npy") if root is not None else None
    return Scene(scene_id, "image.png", camera(10.0), objects, depth_path=depth,
                 root=None if root is None else str(root))


def tiny_scene() -> Scene:
    """Two boxes 3 m apart along camera x, same height and depth: distance 3.0 m exactly."""
    cam = Camera(500.0, 500.0, 320.0, 240.0, W, H)
    a = obj(0, "box", (-1.5, 5.0, 0.0), (0.4, 0.4, 0.4))
    b = obj(1, "ball", (1.5, 5.0, 0.0), (0.3, 0.3, 0.3))
    return Scene("tiny", "tiny.png", cam, (a, b))


CATS = ("chair", "table", "lamp", "box", "mug", "plant pot", "sofa", "shelf", "book", "vase")
COLORS = ("red", "blue", "green", "black", "white", "brown")
FRONTED = {"chair", "sofa", "shelf"}
SHAPES = {"lamp": "cylinder", "plant pot": "cylinder", "vase": "cylinder", "mug": "other"}  # else "box"


def random_scene(seed: int, root: Path | None = None, n: int | None = None) -> Scene:
    """A random scene: 2-12 objects placed in view, random pitch/roll, some fronts, duplicates."""
    rng = np.random.default_rng(seed)
    cam = camera(float(rng.uniform(0, 30)), float(rng.uniform(-5, 5)), cx=float(rng.uniform(300, 340)))
    n = int(rng.integers(2, 13)) if n is None else n
    objs = []
    for i in range(n):
        u, v = rng.uniform(40, W - 40), rng.uniform(60, H - 40)
        z = rng.uniform(1.2, 8.0)
        p_cam = np.array([(u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z])
        center = cam.cam_to_world(p_cam)
        cat = CATS[int(rng.integers(len(CATS)))] if rng.random() < 0.7 else CATS[int(rng.integers(3))]
        size = tuple(float(s) for s in rng.uniform(0.1, 1.6, 3))
        front = None
        if cat in FRONTED:
            a = rng.uniform(-math.pi, math.pi)
            front = (math.cos(a), math.sin(a), 0.0)
            if rng.random() < 0.1:
                front = (0.0, 0.0, 1.0)
        color = COLORS[int(rng.integers(len(COLORS)))] if rng.random() < 0.7 else None
        objs.append(obj(i, cat, center, size, float(rng.uniform(-1.5, 1.5)), color, front=front,
                        shape=SHAPES.get(cat, "box")))
    depth = write_depth(Path(root), f"d{seed}.npy", seed) if root is not None else None
    return Scene(f"rnd{seed}", "image.png", cam, tuple(objs), depth_path=depth,
                 root=None if root is None else str(root))


def sample_scenes(root: Path, n_random: int, depth_parity: int) -> list[Scene]:
    """The rich scene, the twin scene (highlight references) and ``n_random`` random scenes;
    those whose seed has parity ``depth_parity`` get a depth map under ``root``."""
    (root / "r").mkdir()
    (root / "t").mkdir()
    scenes = [rich_scene(root / "r"), twin_scene(root / "t")]
    return scenes + [random_scene(s, root if s % 2 == depth_parity else None) for s in range(n_random)]
