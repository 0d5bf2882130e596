"""Synthetic scenes with exact ground truth: ``render_synthetic`` and ``write_scenes``.

Scene ``index`` of ``seed`` draws from ``np.random.default_rng([seed, index])`` alone, so
it never depends on how many scenes a job makes, and a job can resume anywhere.  Layouts
are resampled (from the same stream, so deterministically) until at least
``MIN_VISIBLE_OBJECTS`` objects show ``MIN_VISIBLE_PIXELS`` pixels at the reference
resolution of 640x480 pixels' area; that check does not depend on the requested size,
so a seed gives the same 3D scene at every resolution of one aspect ratio.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress

from ...files import write_depth, write_image, write_instance_mask
from ...manifest import RunManifest
from ...pinhole import pixel_centre
from ...scene import Camera, MaskRLE, Object3D, Scene, SceneError
from .catalog import scene_shape
from .layout import Layout, LayoutError, references, sample_layout

MIN_VISIBLE_OBJECTS = 3
MIN_VISIBLE_PIXELS = 50
REFERENCE_AREA = 640 * 480
MAX_ATTEMPTS = 40
MAX_SILHOUETTE_SIDE = 1024  # pixels; larger silhouettes are measured at reduced scale


@dataclass(frozen=True, eq=False)
class SyntheticSample:
    """One rendered scene: the record and its pixels (not yet written anywhere)."""

    scene: Scene
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) float32 metres, 0 where nothing was hit
    instance_ids: np.ndarray  # (H, W) int32, -1 floor/walls/background, else object id


def scene_id(seed: int, index: int) -> str:
    return f"synthetic-{seed}-{index:05d}"


def _check_args(seed: int, index: int, size: tuple[int, int]) -> tuple[int, int]:
    if int(seed) < 0 or int(index) < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    w, h = (int(v) for v in size)
    if w < 16 or h < 16:
        raise ValueError(f"image size must be at least 16x16, got {w}x{h}")
    return w, h


def _reference_size(w: int, h: int) -> tuple[int, int]:
    s = math.sqrt(REFERENCE_AREA / (w * h))
    return round(w * s), round(h * s)


def _occlusion_truncation(sr, camera: Camera, ids: np.ndarray, layout: Layout) -> tuple[list[float], list[float]]:
    """Per object: occlusion = hidden / (hidden + visible) over its in-image silhouette, where
    hidden pixels show another object in front; truncation = share of its full silhouette
    (rendered alone, beyond the image borders) that falls outside the image."""
    W, H = camera.width, camera.height
    n = len(layout.objects)
    uv = np.stack([camera.project(camera.world_to_cam(o.box3d.corners())) for o in layout.objects])  # (N, 8, 2)
    lo, hi = uv.min(1), uv.max(1)  # projected box hulls: every silhouette lies inside its own
    inside = (lo[:, 0] >= 0) & (lo[:, 1] >= 0) & (hi[:, 0] <= W) & (hi[:, 1] <= H)
    touch = (lo[:, None, 0] < hi[None, :, 0]) & (lo[None, :, 0] < hi[:, None, 0]) \
        & (lo[:, None, 1] < hi[None, :, 1]) & (lo[None, :, 1] < hi[:, None, 1])
    np.fill_diagonal(touch, False)
    visible = np.bincount(ids[ids >= 0].ravel(), minlength=n)
    occlusion, truncation = [0.0] * n, [0.0] * n
    for i in range(n):
        if inside[i] and not touch[i].any():
            continue  # nothing can cover it and nothing of it leaves the image: both exactly 0
        x0, y0 = math.floor(lo[i, 0]), math.floor(lo[i, 1])
        bw, bh = math.ceil(hi[i, 0]) - x0, math.ceil(hi[i, 1]) - y0
        # In-image window of the projected hull: where the object could cover image pixels.
        c0, r0 = min(max(x0, 0), W), min(max(y0, 0), H)
        c1, r1 = min(max(x0 + bw, 0), W), min(max(y0 + bh, 0), H)
        ids_in = ids[r0:r1, c0:c1]
        if max(bw, bh) <= MAX_SILHOUETTE_SIDE:  # one full-resolution render of the whole silhouette
            sil = sr.silhouette(i, camera, 1.0, (x0, y0), (bw, bh))
            sil_in = sil[r0 - y0:r1 - y0, c0 - x0:c1 - x0]
            full, inner = int(sil.sum()), int(sil_in.sum())
        else:  # very close to the camera: in-image part at full resolution, the whole scaled down
            sil_in = np.zeros(ids_in.shape, dtype=bool)
            if ids_in.size:
                sil_in = sr.silhouette(i, camera, 1.0, (c0, r0), (c1 - c0, r1 - r0))
            s = MAX_SILHOUETTE_SIDE / max(bw, bh)
            sx, sy = math.floor(lo[i, 0] * s), math.floor(lo[i, 1] * s)
            sil = sr.silhouette(i, camera, s, (sx, sy), (math.ceil(hi[i, 0] * s) - sx, math.ceil(hi[i, 1] * s) - sy))
            rows, cols = np.nonzero(sil)
            u, v = pixel_centre(cols + sx) / s, pixel_centre(rows + sy) / s
            full = len(rows)
            inner = int(np.count_nonzero((u >= 0) & (u < W) & (v >= 0) & (v < H)))
        hidden = int(np.count_nonzero(sil_in & (ids_in >= 0) & (ids_in != i)))
        if hidden + visible[i]:
            occlusion[i] = hidden / (hidden + int(visible[i]))
        if full:
            truncation[i] = min(max(1.0 - inner / full, 0.0), 1.0)
        else:  # thinner than a pixel: use the share of its projected hull outside the image
            area = max((hi[i, 0] - lo[i, 0]) * (hi[i, 1] - lo[i, 1]), 1e-12)
            cw = max(min(hi[i, 0], W) - max(lo[i, 0], 0), 0.0)
            ch = max(min(hi[i, 1], H) - max(lo[i, 1], 0), 0.0)
            truncation[i] = min(max(1.0 - cw * ch / area, 0.0), 1.0)
    return occlusion, truncation


def _objects(layout: Layout, ids: np.ndarray, occlusion, truncation) -> tuple[Object3D, ...]:
    refs = references(layout.objects)
    out = []
    for o in layout.objects:
        mask = ids == o.id
        rows, cols = np.any(mask, 1), np.any(mask, 0)
        box2d = rle = None
        if rows.any():
            r, c = np.flatnonzero(rows), np.flatnonzero(cols)
            box2d = (float(c[0]), float(r[0]), float(c[-1] + 1), float(r[-1] + 1))
            rle = MaskRLE.encode(mask)
        elif max(occlusion[o.id], truncation[o.id]) >= 1.0:
            # Hidden or out of frame: an empty mask says so, so readers (geometry) need not
            # open the instance PNG to find no pixels (0.9-3.6 ms per such scene, measured).
            rle = MaskRLE.encode(mask)
        out.append(Object3D(
            id=o.id, category=o.category, box3d=o.box3d, box2d=box2d, mask=rle,
            attributes={"color": o.color}, references=refs[o.id], front=o.front,
            provenance="ground_truth", confidence=1.0,
            occlusion=float(occlusion[o.id]), truncation=float(truncation[o.id]),
            shape=scene_shape(o.category),
        ))
    return tuple(out)


def render_layout(layout: Layout, size: tuple[int, int], sid: str, renderer=None,
                  metadata: dict | None = None) -> SyntheticSample:
    """Render a given layout with its exact ground truth (used by ``render_synthetic``, and
    by tests and benchmarks that build layouts by hand).  ``renderer`` reuses a
    ``SceneRenderer`` already built for this layout."""
    from .render import SceneRenderer  # trimesh and pyrender: only when rendering

    W, H = _check_args(0, 0, size)
    sr = renderer if renderer is not None else SceneRenderer(layout)
    camera = layout.rig.camera(W, H)
    ids, depth = sr.segment(camera)
    rgb = sr.rgb(camera)
    occlusion, truncation = _occlusion_truncation(sr, camera, ids, layout)
    rig, room = layout.rig, layout.room
    meta = {
        "instance_mask_path": f"masks/{sid}.png",
        "generator": "spatialforge.sources.synthetic",
        "camera_height": rig.height,
        "pitch_deg": math.degrees(rig.pitch),
        "roll_deg": math.degrees(rig.roll),
        "hfov_deg": math.degrees(rig.hfov),
        "floor_z": room.floor_z,
        "walls": list(room.walls),
        "room": {"xmin": room.xmin, "xmax": room.xmax, "ymin": room.ymin, "ymax": room.ymax,
                 "wall_height": room.wall_height},
        "supports": [[o.id, o.support] for o in layout.objects if o.support is not None],
    }
    meta.update(metadata or {})
    scene = Scene(
        id=sid, image_path=f"images/{sid}.png", camera=camera,
        objects=_objects(layout, ids, occlusion, truncation),
        depth_path=f"depth/{sid}.npy", source="synthetic", metadata=meta,
    )
    return SyntheticSample(scene, rgb, depth, ids)


def sample_visible_layout(seed: int, index: int, size: tuple[int, int] = (640, 480)):
    """The accepted layout of scene ``index`` of ``seed`` and the renderer built for it.

    Attempts draw from one stream, so the accepted layout is deterministic; the visibility
    check renders at the reference area, so it does not depend on the resolution."""
    from .render import SceneRenderer  # trimesh and pyrender: only when rendering

    W, H = _check_args(seed, index, size)
    rng = np.random.default_rng([int(seed), int(index)])
    ref = _reference_size(W, H)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        layout = sample_layout(rng, H / W)
        if len(layout.objects) < MIN_VISIBLE_OBJECTS:
            continue
        sr = SceneRenderer(layout)
        ids, _ = sr.segment(layout.rig.camera(*ref))
        counts = np.bincount(ids[ids >= 0].ravel(), minlength=len(layout.objects))
        if np.count_nonzero(counts >= MIN_VISIBLE_PIXELS) >= MIN_VISIBLE_OBJECTS:
            return layout, sr, attempt
    raise LayoutError(f"scene {scene_id(seed, index)!r}: no layout with {MIN_VISIBLE_OBJECTS} objects of "
                      f">= {MIN_VISIBLE_PIXELS} visible pixels in {MAX_ATTEMPTS} attempts")


def render_synthetic(seed: int, index: int, size: tuple[int, int] = (640, 480)) -> SyntheticSample:
    """Generate and render scene ``index`` of ``seed`` at ``size`` = (width, height)."""
    layout, sr, attempts = sample_visible_layout(seed, index, size)
    return render_layout(layout, size, scene_id(seed, index), sr,
                         {"seed": int(seed), "index": int(index), "layout_attempts": attempts})


def _complete(json_path: Path) -> Scene | None:
    """The saved scene if its JSON loads and every file it names exists, else None."""
    try:
        scene = Scene.load(json_path)
    except SceneError:
        return None
    root = json_path.parent
    names = [scene.image_path, scene.depth_path, scene.metadata.get("instance_mask_path")]
    return scene if all(n and (root / n).is_file() for n in names) else None


def write_scenes(out: str | Path, num: int, seed: int = 0, size: tuple[int, int] = (640, 480),
                 progress: bool = False) -> list[Path]:
    """Write scenes 0..num-1 of ``seed`` under ``out``: ``<id>.json``, ``images/<id>.png``,
    ``depth/<id>.npy``, ``masks/<id>.png`` and ``manifest.json``.  Scenes whose JSON already
    loads (with its files) are kept, so a stopped job resumes.  Returns the JSON paths."""
    from .render import RendererUnavailable  # trimesh and pyrender: only when rendering

    W, H = _check_args(seed, 0, size)
    if num < 0:
        raise ValueError(f"num must be >= 0, got {num}")
    out = Path(out)
    for sub in ("images", "depth", "masks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    manifest = RunManifest.open(out / "manifest.json", "scenes", {"num": num, "seed": seed, "size": [W, H]})
    paths: list[Path] = []
    stats = {"objects": 0, "visible_objects": 0}
    with Progress(console=Console(stderr=True), disable=not progress, transient=False) as bar:
        task = bar.add_task("rendering scenes", total=num)
        for index in range(num):
            sid = scene_id(seed, index)
            json_path = out / f"{sid}.json"
            scene = _complete(json_path) if json_path.exists() else None
            if scene is None:
                try:
                    sample = render_synthetic(seed, index, (W, H))
                except RendererUnavailable:
                    raise  # no scene can render: stop instead of skipping every one
                except (LayoutError, SceneError, ValueError) as e:
                    manifest.skip(sid, str(e))
                    bar.advance(task)
                    continue
                scene = sample.scene
                write_image(out / scene.image_path, sample.rgb)
                write_depth(out / scene.depth_path, sample.depth)
                write_instance_mask(out / scene.metadata["instance_mask_path"], sample.instance_ids)
                tmp = json_path.with_suffix(".json.tmp")
                scene.save(tmp)
                os.replace(tmp, json_path)  # the JSON appears last: its presence means "complete"
            stats["objects"] += len(scene.objects)
            stats["visible_objects"] += sum(o.mask is not None and o.mask.area > 0 for o in scene.objects)
            manifest.stats = dict(stats)
            manifest.mark_done(sid)
            paths.append(json_path)
            bar.advance(task)
    manifest.close()
    return paths
