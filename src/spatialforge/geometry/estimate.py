"""Scene geometry from depth + masks alone: per-object clouds -> cleanup -> gravity -> 3D boxes.

``estimate_scene`` never reads the ground-truth boxes; it returns a copy of the scene whose
objects carry estimated boxes (``provenance="estimated"``) and whose camera carries the
estimated ``R_world_cam`` (unless the camera rotation is trusted).  ``estimate_folder``
runs it over a folder of scene JSON files, resumably, skipping bad scenes with a reason.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..errors import ConfigError, DataError
from ..files import list_scene_files, read_instance_mask
from ..manifest import RunManifest
from ..mirror import flip_horizontal
from ..scene import Box3D, Camera, Scene, SceneError
from .boxes import fit_box3d, hull_candidates, hull_points
from .cleanup import CleanupConfig, clean_object_points, depth_crop, edge_pixels
from .completion import symmetric_completion
from .gravity import (
    FloorPlane,
    GravityConfig,
    background_grid,
    fit_floor_plane,
    floor_height_given_up,
    rotation_from_up,
)
from .masks import instance_pixels, rle_pixels
from .order_stats import median
from .pointmap import check_depth, pixel_ray_tables, unproject_pixels, valid_depth
from .support import bottom_hidden, extend_down, support_height

_LEVEL_UP_CAM = np.array([0.0, -1.0, 0.0])


@dataclass(frozen=True)
class GeometryConfig:
    """Parameters of ``estimate_scene`` (lengths in metres)."""

    min_mask_pixels: int = 30
    min_points: int = 10  # valid, cleaned points needed for a box
    floor_snap: float = 0.05  # a box bottom this close to the floor is put on it
    completion: bool = True  # add the hidden back half by central symmetry (see completion.py)
    extend_hidden_bottoms: bool = True  # occluded/truncated bottoms reach down to their support (support.py)
    noise_px: float = 0.5  # depth noise above this many pixel footprints counts as noisy ...
    noisy_trim: float = 0.02  # ... and then box extents are quantiles, not extremes (boxes.fit_box3d)
    cleanup: CleanupConfig = field(default_factory=CleanupConfig)
    gravity: GravityConfig = field(default_factory=GravityConfig)

    def __post_init__(self) -> None:
        if self.min_mask_pixels < 1 or self.min_points < 3:
            raise ConfigError("min_mask_pixels must be >= 1 and min_points >= 3")
        if self.floor_snap < 0 or self.noise_px < 0 or not 0 <= self.noisy_trim < 0.5:
            raise ConfigError("floor_snap and noise_px must be >= 0 and noisy_trim in [0, 0.5)")


@dataclass(frozen=True)
class EstimateResult:
    """What ``estimate_scene`` returns.

    scene: the estimated scene (same ids for the objects that got a box);
    dropped: object id -> why it got no box; confidence: scene-level, in [0, 1];
    gravity_source: "camera" (trusted), "floor" (RANSAC) or "level-fallback" (no floor found,
    camera assumed level); floor: the floor plane used, if any."""

    scene: Scene
    dropped: dict[int, str]
    confidence: float
    gravity_source: str
    floor: FloorPlane | None = None


def _wh(h: int, w: int) -> str:
    return f"{w}x{h}"


def _object_pixels(
    scene: Scene, instance_ids: np.ndarray | None
) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], dict[int, str]]:
    """Pixel rows/cols of every object's mask (its RLE, else its id in the instance map),
    or the reason it has none usable."""
    cam = scene.camera
    pixels: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    dropped: dict[int, str] = {}
    from_map: dict[int, tuple[np.ndarray, np.ndarray]] | None = None
    map_error: str | None = None
    for obj in scene.objects:
        if obj.mask is not None:
            if (obj.mask.height, obj.mask.width) != (cam.height, cam.width):
                dropped[obj.id] = (f"mask {_wh(obj.mask.height, obj.mask.width)} does not match "
                                   f"image {_wh(cam.height, cam.width)}")
                continue
            pixels[obj.id] = rle_pixels(obj.mask)
            continue
        if from_map is None and map_error is None:
            try:
                wanted = [o.id for o in scene.objects if o.mask is None]
                from_map = instance_pixels(_instance_map(scene, instance_ids), wanted)
            except SceneError as e:
                map_error = str(e)
        if map_error is not None:
            dropped[obj.id] = f"no mask: {map_error}"
            continue
        pixels[obj.id] = from_map.get(obj.id, (np.empty(0, np.int64), np.empty(0, np.int64)))
    return pixels, dropped


def _instance_map(scene: Scene, instance_ids: np.ndarray | None) -> np.ndarray:
    cam = scene.camera
    if instance_ids is not None:
        ids = np.asarray(instance_ids)
        if ids.shape != (cam.height, cam.width):
            raise SceneError(f"scene {scene.id!r}: instance map has shape {ids.shape}, "
                             f"image is {_wh(cam.height, cam.width)}")
        return ids
    rel = scene.metadata.get("instance_mask_path")
    if not rel:
        raise SceneError(f"scene {scene.id!r}: no RLE mask and no instance_mask_path")
    ids = read_instance_mask(scene._path(rel), scene.id, (cam.height, cam.width))
    return flip_horizontal(ids) if scene.flipped else ids


def _object_confidence(n_mask: int, n_valid: int, n_kept: int, touches_border: bool, gravity_conf: float) -> float:
    """In [0, 1]: the share of the mask with valid depth, times the share kept by the cleanup,
    times a small-cloud penalty (below 200 points), lower when the mask touches the image
    border (probably truncated) and when gravity is uncertain."""
    conf = (n_valid / n_mask) * (n_kept / n_valid) * math.sqrt(min(1.0, n_kept / 200.0))
    conf *= 0.7 if touches_border else 1.0
    conf *= 0.5 + 0.5 * gravity_conf
    return float(min(1.0, max(0.0, conf)))


@dataclass(frozen=True)
class _Gravity:
    """The gravity step's answer: the world rotation, the floor (if any) and how sure it is."""

    R_world_cam: np.ndarray
    floor: FloorPlane | None
    source: str
    confidence: float

    @property
    def floor_z(self) -> float | None:
        return None if self.floor is None else -self.floor.height


@dataclass(frozen=True)
class _Frame:
    """What every object's fit reads: the depth map, the pixel owners and the camera."""

    depth: np.ndarray
    owner: np.ndarray  # (H, W) int32: index of the object each pixel shows, -1 none
    owner_index: dict[int, int]  # object id -> its index in ``owner``
    camera: Camera
    focal: float
    ray_tables: tuple[np.ndarray, np.ndarray]  # pointmap.pixel_ray_tables(camera)


def estimate_scene(
    scene: Scene,
    depth: np.ndarray | None = None,
    use_camera_gravity: bool = False,
    config: GeometryConfig | None = None,
    instance_ids: np.ndarray | None = None,
) -> EstimateResult:
    """Estimate gravity and every object's 3D box from depth and masks.

    depth: (H, W) z-depth in metres in the scene's (possibly flipped) view, or None to load
    it with ``scene.load_depth()``.  NaN/inf/<=0 pixels are ignored.  use_camera_gravity:
    trust ``scene.camera.R_world_cam`` instead of fitting the floor.  Objects without an
    RLE mask take their pixels from ``instance_ids`` ((H, W) ints, -1 background, else
    object id) or, if None, from the PNG at ``scene.metadata["instance_mask_path"]``.
    Raises ``SceneError`` for unusable scenes (no/corrupt depth, no valid depth at all);
    objects that cannot get a box are listed in ``dropped`` with the reason.

    Steps: the objects' pixels with valid depth (``_usable_pixels``), gravity (``_gravity``),
    one box per object (``_fit_object``), hidden bottoms lowered onto their support, and the
    estimated scene (``_estimated_scene``).
    """
    cfg = config or GeometryConfig()
    cam = scene.camera
    depth = scene.load_depth() if depth is None else check_depth(depth, cam, f"scene {scene.id!r}")
    depth = np.ascontiguousarray(depth)  # per-object reads take from depth.ravel(): copy a flipped view once
    valid = valid_depth(depth)
    if not valid.any():
        raise SceneError(f"scene {scene.id!r}: depth has no valid pixel (all NaN, inf or <= 0)")

    pixels, dropped = _object_pixels(scene, instance_ids)
    # Flat (row-major) pixel indices, once per object: 1-D takes and puts are 2x faster than [rows, cols].
    flat = {obj_id: rows * depth.shape[1] + cols for obj_id, (rows, cols) in pixels.items()}
    owner = np.full(depth.shape, -1, np.int32)  # which object each pixel shows (-1: none)
    for k, object_flat in enumerate(flat.values()):
        owner.ravel()[object_flat] = k
    frame = _Frame(depth, owner, {obj_id: k for k, obj_id in enumerate(pixels)}, cam, math.sqrt(cam.fx * cam.fy),
                   pixel_ray_tables(cam))
    usable = _usable_pixels(scene, pixels, flat, valid, cfg, dropped)
    gravity = _gravity(depth, cam, owner >= 0, use_camera_gravity, cfg)

    boxes: dict[int, tuple[Box3D, float]] = {}
    hidden_bottom: list[int] = []
    for obj_id, (rows, cols, object_flat, n_mask) in usable.items():
        fit = _fit_object(obj_id, rows, cols, object_flat, n_mask, frame, gravity, cfg)
        if isinstance(fit, str):
            dropped[obj_id] = fit
            continue
        box, confidence, bottom_is_hidden = fit
        boxes[obj_id] = (box, confidence)
        if bottom_is_hidden:
            hidden_bottom.append(obj_id)
    # Hidden bottoms rest on the highest support below them (another object's top or the floor).
    for obj_id in hidden_bottom:
        box, conf = boxes[obj_id]
        others = [b for k, (b, _) in boxes.items() if k != obj_id]
        level = support_height(box, others, gravity.floor_z)
        if level is not None:
            boxes[obj_id] = (extend_down(box, level), conf)
    return _estimated_scene(scene, boxes, dropped, gravity, use_camera_gravity)


def _usable_pixels(scene: Scene, pixels: dict[int, tuple[np.ndarray, np.ndarray]], flat: dict[int, np.ndarray],
                   valid: np.ndarray, cfg: GeometryConfig,
                   dropped: dict[int, str]) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, int]]:
    """Object id -> (rows, cols, flat indices of its masked pixels with valid depth, mask size);
    objects with too small a mask or too little valid depth go to ``dropped`` with the reason."""
    usable: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}
    for obj in scene.objects:
        if obj.id not in pixels:
            continue
        rows, cols = pixels[obj.id]
        if rows.size == 0:
            dropped[obj.id] = "empty mask"
            continue
        if rows.size < cfg.min_mask_pixels:
            dropped[obj.id] = f"mask has {rows.size} pixels (< {cfg.min_mask_pixels})"
            continue
        ok = valid.ravel()[flat[obj.id]]
        n_ok = int(np.count_nonzero(ok))
        if n_ok == 0:
            dropped[obj.id] = "no valid depth under mask"
            continue
        if n_ok < cfg.min_points:
            dropped[obj.id] = f"only {n_ok} valid depth pixels under mask (< {cfg.min_points})"
            continue
        if n_ok == rows.size:
            usable[obj.id] = (rows, cols, flat[obj.id], n_ok)
        else:
            usable[obj.id] = (rows[ok], cols[ok], flat[obj.id][ok], int(rows.size))
    return usable


def _gravity(depth: np.ndarray, cam: Camera, foreground: np.ndarray, use_camera_gravity: bool,
             cfg: GeometryConfig) -> _Gravity:
    """Gravity: the trusted camera, else the floor plane, else a level camera."""
    grid_points, grid_ok = background_grid(depth, cam, foreground, cfg.gravity.max_points)
    if use_camera_gravity:
        R_world_cam = cam.R
        return _Gravity(R_world_cam, floor_height_given_up(grid_points, grid_ok, R_world_cam[2], cfg.gravity),
                        "camera", 1.0)
    floor = fit_floor_plane(grid_points, grid_ok, cfg.gravity)
    if floor is not None:
        return _Gravity(rotation_from_up(np.asarray(floor.normal_cam)), floor, "floor", floor.confidence)
    return _Gravity(rotation_from_up(_LEVEL_UP_CAM), None, "level-fallback", 0.0)


def _fit_object(obj_id: int, rows: np.ndarray, cols: np.ndarray, flat: np.ndarray, n_mask: int, frame: _Frame,
                gravity: _Gravity, cfg: GeometryConfig) -> tuple[Box3D, float, bool] | str:
    """One object's (box, confidence, bottom hidden?) from its valid-depth pixels, or why it
    gets none: cleanup, world points, footprint (+ completion), box."""
    depth, focal, R_world_cam = frame.depth, frame.focal, gravity.R_world_cam
    n_valid = rows.size
    z = depth.ravel()[flat]
    crop = depth_crop(rows, cols, z)
    boundary, edge, noise = edge_pixels(rows, cols, z, crop=crop)  # noise: sigma_z / z
    keep, _ = clean_object_points(rows, cols, z, focal, cfg.cleanup, boundary, crop)
    n_kept = int(keep.sum())
    if n_kept < cfg.min_points:
        return f"only {n_kept} points left after outlier removal (< {cfg.min_points})"
    noisy = noise * focal > cfg.noise_px
    if n_kept < n_valid:  # the set shrank: its edges moved
        rows, cols, z = rows[keep], cols[keep], z[keep]
        # Only the exact-depth hull reads the edges: skipping them on noisy depth (where
        # cleanup nearly always drops points) saved ~10 % of the 1 %-noise scene time.
        edge = None if noisy else edge_pixels(rows, cols, z)[1]
    points_world = unproject_pixels(rows, cols, z, frame.camera, frame.ray_tables) @ R_world_cam.T
    z_med = median(z[:: max(1, z.size // 512)])
    # Exact depth: the hull of edge and grid pixels is the hull of all, and the box reads it
    # as is unless completion adds points.  Noisy depth: quantile extents need every point,
    # and completion hulls its own subsample (the full noisy hull fits discs worse).
    outline = None if noisy else hull_points(points_world[hull_candidates(rows, cols, edge), :2])
    footprint = points_world[:, :2] if noisy else outline
    if cfg.completion:
        own = frame.owner_index[obj_id]
        hidden = symmetric_completion(points_world, rows, cols, depth, frame.camera, R_world_cam, frame.owner, own,
                                      outline_xy=outline, free_abs=0.01 + 3.0 * noise * z_med)
        if hidden.shape[0]:
            footprint = np.concatenate([footprint, hidden[:, :2]])
            outline = None  # the box hulls the footprint with the completed points
    box = fit_box3d(points_world, floor_z=gravity.floor_z, floor_snap=cfg.floor_snap, footprint_xy=footprint,
                    outline_xy=outline, trim=cfg.noisy_trim if noisy else 0.0)
    bottom_is_hidden = False
    if cfg.extend_hidden_bottoms:
        band = max(0.02, 3.0 * z_med / focal, 3.0 * noise * z_med)
        bottom_is_hidden = bottom_hidden(rows, cols, points_world[:, 2], z, depth, frame.owner,
                                         frame.owner_index[obj_id], band)
    H, W = depth.shape
    border = bool(rows.min() == 0 or cols.min() == 0 or rows.max() == H - 1 or cols.max() == W - 1)
    return box, _object_confidence(n_mask, n_valid, n_kept, border, gravity.confidence), bottom_is_hidden


def _estimated_scene(scene: Scene, boxes: dict[int, tuple[Box3D, float]], dropped: dict[int, str],
                     gravity: _Gravity, use_camera_gravity: bool) -> EstimateResult:
    """The scene with the estimated boxes (objects without one left out) and camera rotation,
    and what the estimate says about itself in ``metadata["geometry"]``."""
    objects = tuple(
        replace(o, box3d=boxes[o.id][0], provenance="estimated", confidence=boxes[o.id][1], front=None)
        for o in scene.objects
        if o.id in boxes
    )
    cam = scene.camera
    camera = cam if use_camera_gravity else replace(cam, R_world_cam=tuple(map(tuple, gravity.R_world_cam.tolist())))
    floor = gravity.floor
    metadata = dict(scene.metadata)
    metadata["geometry"] = {
        "gravity_source": gravity.source,
        "gravity_confidence": gravity.confidence,
        "camera_height": None if floor is None else floor.height,
        "dropped": {str(k): v for k, v in sorted(dropped.items())},
    }
    confs = [c for _, c in boxes.values()]
    confidence = gravity.confidence * (float(np.mean(confs)) if confs else 1.0)
    estimated = replace(scene, camera=camera, objects=objects, metadata=metadata)
    return EstimateResult(estimated, dict(sorted(dropped.items())), float(confidence), gravity.source, floor)


# --------------------------------------------------------------------------- folders
_PATH_FIELDS = ("image_path", "depth_path", "point_map_path")


def _rebase(scene: Scene, src_dir: Path, out_dir: Path) -> Scene:
    """Rewrite the scene's relative file paths so they resolve from ``out_dir``."""

    def move(rel: str | None) -> str | None:
        if rel is None or os.path.isabs(rel):
            return rel
        return os.path.relpath(os.path.abspath(src_dir / rel), os.path.abspath(out_dir))

    changes: dict[str, Any] = {name: move(getattr(scene, name)) for name in _PATH_FIELDS}
    if scene.metadata.get("instance_mask_path"):
        changes["metadata"] = {**scene.metadata, "instance_mask_path": move(scene.metadata["instance_mask_path"])}
    return replace(scene, root=str(out_dir), **changes)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def estimate_folder(
    folder: str | Path,
    out: str | Path | None = None,
    use_camera_gravity: bool = False,
    progress: bool = False,
    config: GeometryConfig | None = None,
) -> RunManifest:
    """Estimate every ``*.json`` scene in ``folder`` (``manifest.json`` ignored) into
    ``out`` (default ``folder/estimated``) as ``<scene id>.json``.

    Resumable: scenes listed as done whose output exists are not redone (a changed
    ``use_camera_gravity`` starts over).  A bad scene is skipped with its reason in the
    manifest; per-object drops go to ``manifest.stats["dropped"][file name]``.  A bad scene
    is one that raises ``DataError``; any other exception is a bug and stops the run.
    Raises ``DataError`` for a missing folder or one without scene files, ``ConfigError``
    for an unusable ``out``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (expected a folder of scene JSON files)")
    files = list_scene_files(folder)
    if not files:
        raise DataError(f"{folder}: no scene JSON files (*.json) to estimate")
    out_dir = Path(out) if out is not None else folder / "estimated"
    if out_dir.resolve() == folder.resolve():
        raise ConfigError(f"--out must differ from the input folder {folder} (inputs would be overwritten)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"--out {out_dir}: cannot create the folder ({e.strerror or e})") from None
    cfg = config or GeometryConfig()
    params = {"folder": str(folder.resolve()), "use_camera_gravity": use_camera_gravity, "config": asdict(cfg)}
    params = json.loads(json.dumps(params, default=str))  # compare like-for-like with what is stored
    manifest = RunManifest.open(out_dir / "manifest.json", "geometry")
    if manifest.params and manifest.params != params:
        manifest = RunManifest.open(out_dir / "manifest.json", "geometry", params, resume=False)
    manifest.params = params
    stats = manifest.stats
    for key in ("outputs", "dropped", "gravity_source", "seconds"):
        stats.setdefault(key, {})

    claimed = {v: k for k, v in stats["outputs"].items()}  # output name -> input file
    bar = None
    if progress:
        bar = Progress(TextColumn("geometry"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True)
        bar.start()
        task = bar.add_task("geometry", total=len(files))
    try:
        for path in files:
            item = path.name
            done_out = stats["outputs"].get(item)
            if manifest.is_done(item) and done_out and (out_dir / done_out).exists():
                if bar is not None:
                    bar.advance(task)
                continue
            _estimate_one(path, item, out_dir, manifest, claimed, use_camera_gravity, cfg)
            if bar is not None:
                bar.advance(task)
        stats["num_objects_dropped"] = sum(len(v) for v in stats["dropped"].values())
    finally:
        if bar is not None:
            bar.stop()
        manifest.close()
    return manifest


def estimate_file(path: Path, out_dir: Path, use_camera_gravity: bool = False, config: GeometryConfig | None = None,
                  claimed: dict[str, str] | None = None) -> tuple[EstimateResult, str]:
    """One scene file in, its estimated scene file out (``out_dir/<scene id>.json``, paths
    rebased): what ``estimate_folder`` runs per file.  claimed: output name -> the input file
    it was written from (a second scene with the same id raises ``SceneError``).
    Returns the result and the output file name."""
    scene = Scene.load(path)
    out_name = f"{scene.id}.json"
    if "/" in scene.id or "\\" in scene.id or scene.id in (".", ".."):
        raise SceneError(f"scene {scene.id!r}: id is not usable as a file name")
    if claimed is not None and claimed.get(out_name, path.name) != path.name:
        raise SceneError(f"scene {scene.id!r}: duplicate scene id (already written from {claimed[out_name]})")
    result = estimate_scene(scene, use_camera_gravity=use_camera_gravity, config=config)
    _write_atomic(out_dir / out_name, _rebase(result.scene, path.parent, out_dir).to_json())
    return result, out_name


def _estimate_one(path: Path, item: str, out_dir: Path, manifest: RunManifest, claimed: dict[str, str],
                  use_camera_gravity: bool, cfg: GeometryConfig) -> None:
    t0 = time.perf_counter()
    try:
        result, out_name = estimate_file(path, out_dir, use_camera_gravity, cfg, claimed)
    except DataError as e:  # one bad scene never kills the batch; anything else is a bug
        reason = str(e)
        for key in ("outputs", "dropped", "gravity_source", "seconds"):
            manifest.pop_stat((key, item))
        manifest.unmark_done(item)  # done before, but its output is gone and it fails now
        manifest.skip(item, reason)
        return
    claimed[out_name] = item
    manifest.set_stat(("outputs", item), out_name)
    manifest.set_stat(("gravity_source", item), result.gravity_source)
    manifest.set_stat(("seconds", item), round(time.perf_counter() - t0, 4))
    if result.dropped:
        manifest.set_stat(("dropped", item), {str(k): v for k, v in result.dropped.items()})
    else:
        manifest.pop_stat(("dropped", item))
    manifest.mark_done(item)  # one journal line with the stats above
