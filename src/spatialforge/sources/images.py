"""The images source: a folder of ordinary photos -> perceived scenes -> the usual dataset.

``perceive_folder(images, config, out)`` runs, per image: read and convert to RGB
(``image_files``), filter (size, blank share), the perception stages (``perception``:
metric geometry, boxes, masks, with their own rejections), then the project's geometry
(``geometry.estimate_scene``: DBSCAN cleanup, gravity from the floor plane, oriented 3D boxes)
and writes, in the layout ``spatialforge scenes`` writes and ``--source folder`` reads:

    out/<id>.json  out/images/<id>.png  out/depth/<id>.npy  out/masks/<id>.png  out/manifest.json

``<id>`` is the image file's stem.  Objects get a front only from an ``orientation`` stage;
without one, orientation tasks are skipped with a reason, never guessed.  A ``gravity`` stage's
up vector replaces the floor-plane fit for its image.  Each scene records in
``metadata["perception"]`` the backend, model and library version of every stage.

One bad image is a skip with its reason in the manifest (``spatialforge.manifest``); the run
resumes: images done whose JSON exists are not redone; a changed config starts over.  With
``use_ray`` the stages and the estimate run on Ray Data (``perception.ray_runner``) and this
process writes the results in the same order: the same bytes.
"""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets.pipeline import generate_dataset
from ..errors import DataError
from ..geometry.estimate import GeometryConfig, estimate_scene
from ..geometry.gravity import rotation_from_up
from ..files import write_depth, write_image, write_instance_mask
from ..perception.base import ImageItem
from ..perception.config import PerceptionConfig, load_config
from ..perception.orientation import with_fronts
from ..perception.verify import build_verifier
from ..perception.pipeline import Perceived, Perception, Stage
from ..manifest import RunManifest
from ..scene import Box3D, Camera, MaskRLE, Object3D, Scene, SceneError
from .image_files import check_pixels, list_image_files, load_rgb

_EXTRA_FIELDS = ("shape", "attributes", "references", "occlusion", "truncation")
_PLACEHOLDER_BOX = Box3D(center=(0.0, 0.0, 0.0), size=(1.0, 1.0, 1.0), yaw=0.0)  # replaced by estimate_scene


def build_scene(p: Perceived, provenance: dict[str, Any], geometry: GeometryConfig | None = None) -> tuple[Scene, dict]:
    """The estimated scene of one perceived image (3D boxes from the project's geometry),
    and the per-object drop reasons.  Raises ``DataError`` if the scene is unusable."""
    item, g, d = p.item, p.geometry, p.detections
    H, W = item.hw
    K = np.asarray(g.K, dtype=np.float64)
    try:
        camera = Camera(fx=float(K[0, 0]), fy=float(K[1, 1]), cx=float(K[0, 2]), cy=float(K[1, 2]), width=W, height=H)
        objects = []
        for i in range(len(d)):
            extra = d.extras[i]
            fields = {k: extra[k] for k in _EXTRA_FIELDS if extra.get(k) is not None}
            box = np.clip(d.boxes[i], 0, [W, H, W, H])
            objects.append(Object3D(id=int(extra.get("id", i)), category=d.labels[i], box3d=_PLACEHOLDER_BOX,
                                    box2d=tuple(float(v) for v in box), mask=MaskRLE.encode(p.masks[i]),
                                    provenance="estimated", confidence=float(min(1.0, max(0.0, d.scores[i]))),
                                    **fields))
        if p.up_cam is not None:  # a gravity stage measured it: trust it instead of fitting the floor
            camera = replace(camera, R_world_cam=tuple(map(tuple, rotation_from_up(p.up_cam).tolist())))
        scene = Scene(id=item.id, image_path=f"images/{item.id}.png", camera=camera, objects=tuple(objects),
                      depth_path=f"depth/{item.id}.npy", source="images",
                      metadata={"instance_mask_path": f"masks/{item.id}.png", "perception": provenance,
                                "orientation": "none: no orientation estimator configured (objects have no front)"})
        result = estimate_scene(scene, depth=np.where(g.valid, g.depth, 0.0).astype(np.float32), config=geometry,
                                use_camera_gravity=p.up_cam is not None)
        if p.azimuths is not None:
            result = replace(result, scene=with_fronts(result.scene, [int(o.id) for o in objects], p.azimuths))
    except SceneError as e:
        raise DataError(f"image {item.id!r}: {e}") from None
    dropped = {**{f"detection/{k}": v for k, v in enumerate(p.dropped)},
               **{str(k): v for k, v in result.dropped.items()}}
    return result.scene, dropped


def _instance_map(scene: Scene) -> np.ndarray:
    ids = np.full((scene.camera.height, scene.camera.width), -1, np.int32)
    for o in sorted(scene.objects, key=lambda o: -(o.mask.area if o.mask else 0)):  # small objects drawn last, on top
        if o.mask is not None:
            ids[o.mask.decode()] = o.id
    return ids


def _write_scene(out: Path, scene: Scene, rgb: np.ndarray, depth: np.ndarray, valid: np.ndarray) -> None:
    for sub in ("images", "depth", "masks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    write_image(out / scene.image_path, rgb)
    write_depth(out / scene.depth_path, np.where(valid, depth, 0.0))  # 0 = no depth, as the synthetic source writes
    write_instance_mask(out / scene.metadata["instance_mask_path"], _instance_map(scene))
    tmp = out / f"{scene.id}.json.tmp"
    scene.save(tmp)
    tmp.replace(out / f"{scene.id}.json")  # the JSON appears last: its presence means "complete"


def perceive_folder(images: str | Path, config: PerceptionConfig | str | Path, out: str | Path,
                    geometry: GeometryConfig | None = None, *, use_ray: bool = False, ray_workers: int = 1,
                    ray_threads: int | None | str = "driver") -> RunManifest:
    """Perceive every image file in ``images`` into scenes under ``out``; see the module doc.

    ``use_ray``: run the stages as Ray Data actor pools of ``ray_workers`` actors each, with
    ``ray_threads`` torch threads per actor (``perception.ray_runner.run_perception``); with
    the default, the output is the in-process path's, byte for byte."""
    images, out = Path(images), Path(out)
    if not images.is_dir():
        raise DataError(f"{images}: not a folder of images")
    cfg = config if isinstance(config, PerceptionConfig) else load_config(config)
    gcfg = geometry or GeometryConfig()
    params = json.loads(json.dumps({"images": str(images.resolve()), "perception": cfg.to_dict(),
                                    "geometry": asdict(gcfg)}, default=str))
    same = _stored_params(out / "manifest.json") == params  # other images/config/geometry: start over
    manifest = RunManifest.open(out / "manifest.json", "perceive", params, resume=same)
    manifest.stats.setdefault("dropped", {})
    out.mkdir(parents=True, exist_ok=True)
    try:
        _perceive(images, out, manifest, cfg, gcfg, use_ray, ray_workers, ray_threads)
    finally:
        manifest.close()
    return manifest


def _perceive(images: Path, out: Path, manifest: RunManifest, cfg: PerceptionConfig, gcfg: GeometryConfig,
              use_ray: bool, ray_workers: int, ray_threads: int | None | str) -> None:
    """Perceive the images not done yet, recording each in ``manifest`` (flushed per batch)."""
    pending, names = _pending(images, out, manifest, cfg)
    manifest.write()
    if not pending:
        return
    perception = None if use_ray else Perception(cfg)
    verifier = _verifier(cfg, perception)
    finish = partial(estimate, config=cfg, geometry=gcfg, reference_grounder=None if verifier is None else {
        "backend": getattr(verifier.grounder, "backend_name", None), "model": getattr(verifier.grounder, "model_path", None)})
    if use_ray:
        from ..perception.ray_runner import run_perception

        with closing(run_perception(pending, cfg, finish, workers=ray_workers, torch_threads=ray_threads)) as results:
            for i, est in results:
                _record(pending[i], _verified(est, pending[i], verifier), names[pending[i].id], out, manifest)
                if (i + 1) % cfg.batch_size == 0 or i + 1 == len(pending):  # after each batch, as in-process
                    manifest.flush()
        return
    for start in range(0, len(pending), cfg.batch_size):
        batch = pending[start : start + cfg.batch_size]
        for item, res in zip(batch, perception.run(batch), strict=True):
            _record(item, _verified(finish(res), item, verifier), names[item.id], out, manifest)
        manifest.flush()


def _verifier(cfg: PerceptionConfig, perception: Perception | None) -> Any:
    """The referring-expression verifier (None unless ``references.verify``).  It runs on the
    driver on both paths; on Ray the driver loads its own detection and segmentation backends."""
    if not cfg.references.verify:
        return None
    backends = perception.backends if perception is not None else {
        kind: Stage(kind, cfg).backend for kind in ("detection", "segmentation")}
    return build_verifier(cfg, backends)


def _verified(est: Estimated | DataError, item: ImageItem, verifier: Any) -> Estimated | DataError:
    """HiSpatial 7.1: keep only the references a grounder confirms (or the rejection)."""
    if verifier is None or isinstance(est, DataError):
        return est
    try:
        return replace(est, scene=verifier(est.scene, item))
    except DataError as e:
        return e


def _pending(images: Path, out: Path, manifest: RunManifest, cfg: PerceptionConfig) -> tuple[list[ImageItem], dict[str, str]]:
    """Images still to perceive (read and pre-filtered; bad ones skipped in the manifest), and
    the file name of each image id."""
    files = list_image_files(images)
    names = {p.name for p in files}
    for gone in [k for k in manifest.skipped if k not in names]:  # removed since the last run
        manifest.skipped.pop(gone)
    pending: list[ImageItem] = []
    seen: dict[str, str] = {}
    for path in files:
        sid = path.stem
        if sid in seen:
            manifest.skip(path.name, f"duplicate image id {sid!r} (already from {seen[sid]})", flush=False)
            continue
        seen[sid] = path.name
        if manifest.is_done(path.name) and (out / f"{sid}.json").exists():
            continue
        try:
            rgb = load_rgb(path)
            check_pixels(rgb, path.name, cfg.filter.min_side, cfg.filter.max_white_black)
        except DataError as e:
            manifest.skip(path.name, str(e), flush=False)
            continue
        pending.append(ImageItem(sid, rgb))
    return pending, seen


def _stored_params(path: Path) -> Any:
    try:
        return json.loads(path.read_text()).get("params")
    except (OSError, json.JSONDecodeError):
        return None


@dataclass
class Estimated:
    """One image's finished scene and what the driver writes for it."""

    scene: Scene
    dropped: dict[str, str]
    depth: np.ndarray
    valid: np.ndarray


def estimate(res: Perceived | DataError, config: PerceptionConfig, geometry: GeometryConfig,
             reference_grounder: dict[str, Any] | None = None) -> Estimated | DataError:
    """The scene of one perceived image (``build_scene``), or the ``DataError`` that rejects it
    (perception's, or too few objects with a 3D box).  Pure: the Ray path runs it on workers.
    ``reference_grounder``: the verifier's grounder, recorded in the scene's provenance."""
    try:
        if isinstance(res, DataError):
            raise res
        provenance = {"config": config.path, "digest": config.digest(),
                      "stages": {kind: res.stages[kind] for kind in config.stages}}
        if reference_grounder is not None:
            provenance["reference_grounder"] = reference_grounder
        scene, dropped = build_scene(res, provenance, geometry)
        if len(scene.objects) < config.filter.min_objects:
            raise DataError(f"image {res.item.id!r}: {len(scene.objects)} objects with a 3D box "
                            f"(< {config.filter.min_objects})" + (f"; dropped: {_short(dropped)}" if dropped else ""))
    except DataError as e:
        return e
    return Estimated(scene, dropped, res.geometry.depth, res.geometry.valid)


def _record(item: ImageItem, est: Estimated | DataError, name: str, out: Path, manifest: RunManifest) -> None:
    """Write one image's scene and mark it done, or record its skip."""
    if isinstance(est, DataError):
        manifest.unmark_done(name)
        manifest.pop_stat(("dropped", name))
        manifest.skip(name, str(est), flush=False)
        return
    _write_scene(out, est.scene, item.rgb, est.depth, est.valid)
    if est.dropped:
        manifest.set_stat(("dropped", name), est.dropped)
    manifest.mark_done(name, flush=False)


def _short(dropped: dict[str, str], n: int = 3) -> str:
    items = [f"{k}: {v}" for k, v in list(dropped.items())[:n]]
    return "; ".join(items) + (f"; ... ({len(dropped) - n} more)" if len(dropped) > n else "")


def generate_from_images(images: str | Path, perception: str | Path | PerceptionConfig, out: str | Path,
                         ray_workers: int = 1, **generate_kwargs: Any) -> RunManifest:
    """``generate --source images``: perceive into ``out/perceived``, then generate the dataset
    from those scenes exactly as ``--source folder`` does.  Images the perception skipped are
    listed in the dataset manifest's ``skipped`` as ``perceive/<file>`` with the reason.
    ``use_ray`` (a ``generate_dataset`` option) runs both halves on Ray Data."""
    out = Path(out)
    perceived = out / "perceived"
    before = _stored_params(perceived / "manifest.json")
    pm = perceive_folder(images, perception, perceived, use_ray=bool(generate_kwargs.get("use_ray")),
                         ray_workers=ray_workers)
    if before is not None and before != pm.params:  # new perception output: old QA rows are stale
        generate_kwargs["overwrite"] = True
    m = generate_dataset(out, source="folder", scenes_dir=perceived, **generate_kwargs)
    for item in [k for k in m.skipped if k.startswith("perceive/")]:  # this run's list replaces the last one's
        m.skipped.pop(item)
    for item, reason in pm.skipped.items():
        m.skip(f"perceive/{item}", reason, flush=False)
    m.stats["perceive"] = {"images_done": len(pm.done), "images_skipped": len(pm.skipped),
                           "manifest": str(pm.path)}
    m.close()
    return m
