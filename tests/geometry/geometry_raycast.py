"""A tiny numpy ray caster for hand-built scenes: gravity-aligned boxes and vertical
cylinders standing on a floor, seen by a pitched/rolled pinhole camera at the world origin
(scene.py frames).  A helper module with a unique name rather than conftest.py, so that
``from geometry_raycast import ...`` cannot pick up another test folder's conftest."""

from __future__ import annotations

import math

import numpy as np

from spatialforge import Box3D, Camera, MaskRLE, Object3D, Scene


def camera_rotation(pitch: float, roll: float) -> np.ndarray:
    """R_world_cam of a camera pitched down by ``pitch`` and rolled by ``roll`` (radians),
    with world x = camera x made horizontal (scene.py convention)."""
    level = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])  # camera -> world for a level camera
    cp, sp, cr, sr = math.cos(pitch), math.sin(pitch), math.cos(roll), math.sin(roll)
    pitch_down = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])  # about camera x
    roll_about_z = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])  # about camera z
    up_cam = (level @ pitch_down @ roll_about_z)[2]  # world z in camera coordinates
    x_w = np.array([1.0, 0, 0]) - up_cam[0] * up_cam
    x_w /= np.linalg.norm(x_w)
    return np.stack([x_w, np.cross(up_cam, x_w), up_cam])


def ray_cast(camera: Camera, boxes: list[Box3D], floor_z: float | None, wall_y: float | None = None,
             cylinders: tuple = ()):
    """z-depth (H, W) float32 and instance ids (H, W) int (-1 floor/wall/none) of the boxes
    (ids 0..), vertical cylinders ``(x, y, radius, z0, z1)`` (ids after the boxes), a floor
    at world z = floor_z and a back wall at world y = wall_y."""
    H, W = camera.height, camera.width
    u = (np.arange(W) + 0.5 - camera.cx) / camera.fx
    v = (np.arange(H) + 0.5 - camera.cy) / camera.fy
    rays_cam = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.ones((H, W))), -1).reshape(-1, 3)
    rays_world = rays_cam @ camera.R.T  # t along these rays is the z-depth
    best = np.full(rays_world.shape[0], np.inf)
    ids = np.full(rays_world.shape[0], -1)
    if floor_z is not None:
        with np.errstate(divide="ignore"):
            t = np.where(rays_world[:, 2] < 0, floor_z / rays_world[:, 2], np.inf)
        best = np.minimum(best, t)
    if wall_y is not None:
        with np.errstate(divide="ignore"):
            t = np.where(rays_world[:, 1] > 0, wall_y / rays_world[:, 1], np.inf)
        best = np.minimum(best, t)
    for k, box in enumerate(boxes):
        axes = box.axes()  # rows: local x, y, z in world
        half = np.array([box.size[0], box.size[2], box.size[1]]) / 2
        origin_local = -np.asarray(box.center) @ axes.T
        dir_local = rays_world @ axes.T
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (-half - origin_local) / dir_local
            t2 = (half - origin_local) / dir_local
        t_near = np.nanmax(np.minimum(t1, t2), axis=1)
        t_far = np.nanmin(np.maximum(t1, t2), axis=1)
        hit = (t_near <= t_far) & (t_near > 0) & (t_near < best)
        best[hit] = t_near[hit]
        ids[hit] = k
    for k, (cx, cy, radius, z0, z1) in enumerate(cylinders, start=len(boxes)):
        dx, dy, dz = rays_world.T
        a = dx * dx + dy * dy
        b = -2.0 * (dx * cx + dy * cy)
        c = cx * cx + cy * cy - radius * radius
        disc = b * b - 4 * a * c
        with np.errstate(invalid="ignore", divide="ignore"):
            t_side = (-b - np.sqrt(disc)) / (2 * a)
            z_side = t_side * dz
            side = (disc >= 0) & (t_side > 0) & (z_side >= z0) & (z_side <= z1)
            t_top = np.where(dz != 0, z1 / dz, np.inf)
            top = (t_top > 0) & ((t_top * dx - cx) ** 2 + (t_top * dy - cy) ** 2 <= radius * radius)
        t = np.minimum(np.where(side, t_side, np.inf), np.where(top, t_top, np.inf))
        hit = t < best
        best[hit] = t[hit]
        ids[hit] = k
    depth = np.where(np.isfinite(best), best, 0.0).astype(np.float32).reshape(H, W)
    return depth, ids.reshape(H, W)


def build_scene(boxes: list[Box3D], pitch: float = 0.3, roll: float = 0.05, cam_height: float = 1.5,
                size: tuple[int, int] = (320, 240), wall_y: float | None = 8.0, scene_id: str = "hand",
                cylinders: tuple = ()):
    """Scene with GT boxes and RLE masks, plus its depth map and instance ids."""
    W, H = size
    f = 0.8 * W
    cam = Camera(f, f, W / 2, H / 2, W, H, tuple(map(tuple, camera_rotation(pitch, roll).tolist())))
    depth, ids = ray_cast(cam, boxes, -cam_height, wall_y, cylinders)
    gt = list(boxes) + [Box3D((x, y, (z0 + z1) / 2), (2 * r, z1 - z0, 2 * r), 0.0) for x, y, r, z0, z1 in cylinders]
    objects = tuple(
        Object3D(id=k, category="box" if k < len(boxes) else "cylinder", box3d=b, mask=MaskRLE.encode(ids == k))
        for k, b in enumerate(gt)
    )
    return Scene(scene_id, "image.png", cam, objects, depth_path="depth.npy"), depth, ids
