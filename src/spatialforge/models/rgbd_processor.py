"""Point maps for the RGB-D models: from arrays or depth, resized to the processed image, batched.

The model wants ``point_maps`` aligned with ``pixel_values`` (see ``models/rgbd.py``):

* PaliGemma: (num_images, 4, H, W), H x W = the processed image size (448 x 448 for
  PaliGemma 2 448 px; the SigLIP processor squashes the whole image, no crop);
* Qwen2.5-VL: (num_merged_tokens, 4, 28, 28): each image's point map resized to its processed
  size (``image_grid_thw`` x 14 px) and cut into 28 x 28 merge units in raster order, one row
  per image token.

Channels: x, y, z (camera frame, OpenCV, metres) and validity (1/0); invalid xyz are 0.

Resizing never mixes invalid points into valid ones: ``"nearest"`` (default) copies the
nearest source pixel with its validity; ``"area"`` averages the *valid* source points under
each output pixel's footprint and marks it valid when at least ``min_valid_fraction`` of the
footprint is valid.  Nearest keeps every point a measured one (no "flying" points averaged
across a depth edge); area averages out noise of estimated depth when shrinking a lot.

Point-map-like inputs (:func:`as_point_map`): an (H, W, 3) array (invalid = non-finite or
z <= 0), an (H, W, 4) array (4th channel = validity), a ``(points, valid)`` pair, or a dict
``{"points", "valid"}`` / ``{"depth", "camera"}`` / ``{"depth", "fx", "fy", "cx", "cy"}``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..datasets.parquet import point_map_from_row
from ..errors import ConfigError
from ..pinhole import nearest_index, unproject_pixel
from ..scene import Camera
from .loading import load_processor
from .rgbd import MissingPointMapsError

PointMapLike = Any  # see module docstring
# image -> point-map-like (e.g. a monocular metric depth / point-map estimator such as MoGe-2)
PointMapEstimator = Callable[[Any], PointMapLike]
RESIZE_MODES = ("nearest", "area")
# Dataset columns a row's point map is read from (``spatialforge generate`` rows; kept by
# ``train.data.to_sft_dataset`` for the RGB-D collator).
POINT_MAP_COLUMNS = ("point_map", "depth_path", "point_map_path", "fx", "fy", "cx", "cy", "flipped", "no_depth")
# ``no_depth`` marks rows that have no depth by design (general-VQA rows mixed into RGB-D SFT):
# without an estimator they get an all-invalid point map (validity 0, xyz 0), the input the
# zero-initialised fusion already treats as "no geometry"; other rows without depth are an error.


def point_map_from_depth(
    depth: np.ndarray,
    camera: Camera | None = None,
    *,
    fx: float | None = None,
    fy: float | None = None,
    cx: float | None = None,
    cy: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) z-depth in metres + intrinsics -> (points (H, W, 3) float32, valid (H, W) bool).

    Unprojects every pixel centre with ``pinhole.unproject_pixel``; depth that
    is non-finite or <= 0 is invalid (its point is 0).  Give a ``camera`` or fx, fy, cx, cy.
    """
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim != 2:
        raise ValueError(f"depth must be (H, W), got {depth.shape}")
    h, w = depth.shape
    if camera is None:
        if None in (fx, fy, cx, cy):
            raise ValueError("point_map_from_depth needs a camera or all of fx, fy, cx, cy")
        camera = Camera(fx=float(fx), fy=float(fy), cx=float(cx), cy=float(cy), width=w, height=h)
    elif (camera.height, camera.width) != (h, w):
        raise ValueError(f"depth is {h}x{w} but the camera is {camera.height}x{camera.width}")
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(depth) & (depth > 0)
    z = np.where(valid, depth, 0.0)
    x, y, _ = unproject_pixel(np.arange(w)[None, :], np.arange(h)[:, None], z, camera.fx, camera.fy, camera.cx, camera.cy)
    return np.stack([x, y, z], axis=-1).astype(np.float32), valid


def as_point_map(x: PointMapLike) -> tuple[np.ndarray, np.ndarray]:
    """Any point-map-like input -> (points (H, W, 3) float32 with invalid = 0, valid (H, W) bool)."""
    if isinstance(x, dict):
        if "depth" in x:
            return point_map_from_depth(x["depth"], x.get("camera"), **{k: x.get(k) for k in ("fx", "fy", "cx", "cy")})
        if "points" in x:
            return as_point_map((x["points"], x.get("valid")))
        raise ValueError(f"a point-map dict needs 'points' (and 'valid') or 'depth' (and intrinsics); got {sorted(x)}")
    flag = None
    if isinstance(x, tuple):
        x, flag = x
    arr = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[-1] not in (3, 4):
        raise ValueError(f"a point map must be (H, W, 3) or (H, W, 4), got shape {arr.shape}")
    points = arr[..., :3]
    valid = np.isfinite(points).all(-1)
    with np.errstate(invalid="ignore"):
        valid &= points[..., 2] > 0
    if arr.shape[-1] == 4:
        valid &= arr[..., 3] > 0.5
    if flag is not None:
        flag = np.asarray(flag, dtype=bool)
        if flag.shape != valid.shape:
            raise ValueError(f"validity mask {flag.shape} does not match the point map {valid.shape}")
        valid &= flag
    return np.where(valid[..., None], points, np.float32(0)).astype(np.float32), valid


def _overlap(n_out: int, n_in: int) -> np.ndarray:
    """(n_out, n_in) length of overlap between output cell j and input cell i (in input pixels)."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo = np.maximum(edges[:-1, None], np.arange(n_in)[None, :])
    hi = np.minimum(edges[1:, None], np.arange(1, n_in + 1)[None, :])
    return np.clip(hi - lo, 0.0, None)


def resize_point_map(
    points: np.ndarray, valid: np.ndarray, size: tuple[int, int], mode: str = "nearest", min_valid_fraction: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Resize (H, W, 3) points + (H, W) validity to ``size`` = (h, w) without blending invalid points in.

    ``mode="nearest"``: each output pixel copies its nearest input pixel, validity included.
    ``mode="area"``: mean of the valid input points under the output pixel's footprint
    (area-weighted); valid when the valid share of the footprint is >= ``min_valid_fraction``.
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize mode must be one of {RESIZE_MODES}, got {mode!r}")
    (hi, wi), (ho, wo) = valid.shape, size
    if (hi, wi) == (ho, wo):
        return points, valid
    if mode == "nearest":
        iy, ix = nearest_index(ho, hi), nearest_index(wo, wi)
        return points[iy][:, ix], valid[iy][:, ix]
    ay, ax = _overlap(ho, hi), _overlap(wo, wi)
    v = valid.astype(np.float64)
    p = np.where(valid[..., None], points, 0.0).astype(np.float64)
    count = ay @ v @ ax.T  # valid area under each output pixel
    total = ay.sum(1)[:, None] * ax.sum(1)[None, :]
    sums = np.einsum("yh,hwc,xw->yxc", ay, p, ax)
    ok = (count > 0) & (count >= min_valid_fraction * total - 1e-9)
    out = np.where(ok[..., None], sums / np.maximum(count, 1e-12)[..., None], 0.0)
    return out.astype(np.float32), ok


def _to_chw(points: np.ndarray, valid: np.ndarray) -> torch.Tensor:
    """(H, W, 3) + (H, W) -> (4, H, W) float32 tensor."""
    arr = np.concatenate([np.where(valid[..., None], points, 0.0), valid[..., None]], axis=-1)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1), dtype=np.float32))


def merge_units(point_map: torch.Tensor, unit: int) -> torch.Tensor:
    """(4, H, W) -> (H/unit * W/unit, 4, unit, unit): squares in raster order (Qwen's token order)."""
    c, h, w = point_map.shape
    if h % unit or w % unit:
        raise ValueError(f"point map {h}x{w} is not a multiple of the merge unit {unit}")
    return point_map.view(c, h // unit, unit, w // unit, unit).permute(1, 3, 0, 2, 4).reshape(-1, c, unit, unit)


def _flatten(items: Any) -> list:
    if items is None:
        return []
    items = list(items) if isinstance(items, (list, tuple)) else [items]
    return [y for x in items for y in (x if isinstance(x, (list, tuple)) and not _is_pair(x) else [x])]


def _is_pair(x: Any) -> bool:  # a (points, valid) tuple is one point map, not a list of them
    return isinstance(x, tuple) and len(x) == 2 and all(hasattr(a, "shape") for a in x)


class RGBDProcessor:
    """A VLM processor plus point maps: ``__call__`` returns the processor's batch with ``point_maps``.

    ``processor``: the base model's processor (``load_processor``).  ``estimator``: called on an
    image (PIL) whose point map is missing; without one a missing point map is an error.
    Attributes not defined here (``tokenizer``, ``apply_chat_template``, ``batch_decode`` ...)
    are the processor's.
    """

    def __init__(self, processor: Any, *, estimator: PointMapEstimator | None = None, resize: str = "nearest",
                 min_valid_fraction: float = 0.5):  # fmt: skip
        if resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {RESIZE_MODES}, got {resize!r}")
        ip = getattr(processor, "image_processor", None)
        if ip is None:
            raise TypeError(f"{type(processor).__name__} has no image processor; pass a multimodal processor")
        if getattr(ip, "do_center_crop", False):
            raise ValueError("the image processor center-crops; point maps are aligned by resizing the full frame only")
        self.processor = processor
        self.estimator = estimator
        self.resize = resize
        self.min_valid_fraction = min_valid_fraction

    @classmethod
    def from_pretrained(cls, path_or_id: str | os.PathLike, *, estimator: PointMapEstimator | None = None,
                        resize: str = "nearest", **kwargs: Any) -> "RGBDProcessor":  # fmt: skip
        return cls(load_processor(path_or_id, **kwargs), estimator=estimator, resize=resize)

    def __getattr__(self, name: str) -> Any:
        if name == "processor":  # not set yet (unpickling): avoid infinite recursion
            raise AttributeError(name)
        return getattr(self.processor, name)

    def __call__(self, text: Any = None, images: Any = None, point_maps: Any = None, **kwargs: Any):
        """The processor's ``BatchFeature`` + ``point_maps``; ``point_maps`` nests like ``images``
        (one per image; ``None`` entries go to the estimator).  With neither point maps nor an
        estimator the batch has no ``point_maps`` (an RGB-D model then raises)."""
        batch = self.processor(text=text, images=images, **kwargs)
        flat_images = _flatten(images)
        # Without point maps or an estimator, leave them out: the model then says what is missing.
        if flat_images and (point_maps is not None or self.estimator is not None):
            pms = _flatten(point_maps) if point_maps is not None else [None] * len(flat_images)
            batch["point_maps"] = self.batch_point_maps(batch, pms, flat_images)
        return batch

    def resolve(self, point_map: PointMapLike | None, image: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """A point map as (points, valid), asking the estimator when it is missing."""
        if point_map is None:
            if self.estimator is None:
                raise MissingPointMapsError(
                    "an image has no point map (no depth / point-map columns, no GenRequest.extra['point_map']) "
                    "and no estimator was given: pass point maps, or an estimator (image -> point map) to "
                    "RGBDProcessor(..., estimator=...)"
                )
            if image is None:
                raise MissingPointMapsError("a point map is missing and there is no image to estimate it from")
            point_map = self.estimator(image)
        return as_point_map(point_map)

    def batch_point_maps(self, batch: Any, point_maps: Sequence[PointMapLike | None],
                         images: Sequence[Any] | None = None) -> torch.Tensor:  # fmt: skip
        """``point_maps`` (one per image, in the order the processor flattened the images) aligned
        with ``batch`` (the processor's output for those images): a float32 tensor, see module docstring."""
        images = list(images) if images is not None else [None] * len(point_maps)
        if len(point_maps) != len(images):
            raise ValueError(f"{len(point_maps)} point maps for {len(images)} images")
        resolved = [self.resolve(pm, im) for pm, im in zip(point_maps, images, strict=True)]
        for (pts, _), im in zip(resolved, images, strict=True):
            _check_aspect(pts.shape[:2], im)
        grid = batch.get("image_grid_thw") if hasattr(batch, "get") else None
        if grid is not None:  # Qwen2-VL family: one row per merged token
            ip = self.processor.image_processor
            patch, merge = int(ip.patch_size), int(ip.merge_size)
            if len(grid) != len(resolved):
                raise ValueError(f"{len(resolved)} point maps for {len(grid)} processed images")
            rows = []
            for (pts, val), (t, gh, gw) in zip(resolved, grid.tolist(), strict=True):
                if t != 1:
                    raise ValueError("point maps are per image; got a temporal grid t > 1 (video?)")
                p, v = resize_point_map(pts, val, (gh * patch, gw * patch), self.resize, self.min_valid_fraction)
                rows.append(merge_units(_to_chw(p, v), patch * merge))
            return torch.cat(rows) if rows else torch.zeros(0, 4, patch * merge, patch * merge)
        pixel_values = batch["pixel_values"]
        if pixel_values.ndim != 4 or pixel_values.shape[0] != len(resolved):
            raise ValueError(f"{len(resolved)} point maps for pixel_values of shape {tuple(pixel_values.shape)}")
        size = tuple(pixel_values.shape[-2:])
        return torch.stack([_to_chw(*resize_point_map(p, v, size, self.resize, self.min_valid_fraction))
                            for p, v in resolved])  # fmt: skip

    def save_pretrained(self, *args: Any, **kwargs: Any):
        return self.processor.save_pretrained(*args, **kwargs)


def _check_aspect(hw: tuple[int, int], image: Any, tol: float = 0.02) -> None:
    """A point map must cover the same field of view as its image (any resolution, same aspect)."""
    size = getattr(image, "size", None)  # PIL: (width, height)
    if image is None or size is None or len(size) != 2:
        return
    (h, w), (iw, ih) = hw, size
    if abs((w / h) / (iw / ih) - 1) > tol:
        raise ValueError(f"point map {w}x{h} (WxH) does not match its image {iw}x{ih}: different aspect ratio")


def point_map_from_example(example: dict[str, Any], root: str | os.PathLike | None) -> PointMapLike | None:
    """The point map of a dataset row: a ``point_map`` value, else its depth / point-map files
    (``spatialforge generate`` rows: ``depth_path`` or ``point_map_path`` relative to ``root``,
    the view's intrinsics, ``flipped``), else None."""
    if example.get("point_map") is not None:
        return example["point_map"]
    if not (example.get("depth_path") or example.get("point_map_path")):
        return None
    rel = [v for v in (example.get("depth_path"), example.get("point_map_path")) if v and not Path(v).is_absolute()]
    if rel and root is None:
        raise ValueError(f"the row references {rel[0]!r} relative to its dataset: give the dataset root folder")
    return point_map_from_row(example, Path(root) if root is not None else Path("/"))


class RGBDDataCollator:
    """Wraps a VLM training collator (TRL's ``DataCollatorForVisionLanguageModeling``) and adds
    ``point_maps`` built from each row's point-map columns (:data:`POINT_MAP_COLUMNS`).

    Rows without depth get the processor's estimator, or raise :class:`MissingPointMapsError`.
    The trainer must keep those columns (``remove_unused_columns=False``).
    """

    def __init__(self, collator: Callable[[list[dict]], Any], processor: RGBDProcessor,
                 root: str | os.PathLike | None = None):  # fmt: skip
        self.collator = collator
        self.processor = processor
        self.root = root

    def __call__(self, examples: list[dict[str, Any]]):
        images, point_maps = [], []
        for ex in examples:
            imgs = list(ex["images"]) if ex.get("images") is not None else [ex["image"]]
            pm = point_map_from_example(ex, self.root)
            if pm is None and ex.get("no_depth") and self.processor.estimator is None:
                pm = [no_depth_point_map(im) for im in imgs]
            pms = list(pm) if isinstance(pm, list) else [pm] * len(imgs) if pm is None or len(imgs) == 1 else None
            if pms is None or len(pms) != len(imgs):
                raise ValueError(f"a row has {len(imgs)} images but not as many point maps (give 'point_map' a list)")
            images += imgs
            point_maps += pms
        batch = self.collator([{k: v for k, v in ex.items() if k not in POINT_MAP_COLUMNS} for ex in examples])
        batch["point_maps"] = self.processor.batch_point_maps(batch, point_maps, images)
        return batch


def no_depth_point_map(image: Any) -> tuple[np.ndarray, np.ndarray]:
    """An all-invalid point map of ``image``'s size: (points 0, valid False)."""
    w, h = image.size
    return np.zeros((h, w, 3), np.float32), np.zeros((h, w), bool)


def rows_without_depth(ds: Any) -> list[int]:
    """Rows of a dataset that have neither a point map nor depth files and are not marked ``no_depth``."""
    cols = [c for c in ("point_map", "depth_path", "point_map_path", "no_depth") if c in ds.column_names]
    if not cols:
        return list(range(len(ds)))
    return [i for i, vals in enumerate(zip(*(ds[c] for c in cols))) if not any(v for v in vals)]


def point_maps_for_requests(processor: Any, requests: Sequence[Any], batch: Any,
                            estimator: PointMapEstimator | None = None) -> torch.Tensor:  # fmt: skip
    """``point_maps`` for a batch of ``GenRequest``s processed into ``batch``.

    A request carries ``extra["point_map"]`` (one image) or ``extra["point_maps"]`` (one per
    image), each point-map-like (so ``{"depth": ..., "camera": ...}`` works too); missing ones
    go to ``estimator`` (or the processor's, if it is an :class:`RGBDProcessor`).
    """
    proc = processor if isinstance(processor, RGBDProcessor) else RGBDProcessor(processor, estimator=estimator)
    images, point_maps = [], []
    for r in requests:
        given = r.extra.get("point_maps")
        if given is None:
            given = [r.extra.get("point_map")] + [None] * (len(r.images) - 1)
        if len(given) != len(r.images):
            raise ValueError(f"request {r.id!r}: {len(given)} point maps for {len(r.images)} images")
        images += list(r.images)
        point_maps += list(given)
    return proc.batch_point_maps(batch, point_maps, images)


def dataset_root(path: str | os.PathLike) -> Path:
    """The folder a dataset's relative file paths start from: ``path`` itself if it is a folder,
    else the nearest folder above a shard/export file (or glob) that holds ``manifest.json``,
    else the file's own folder."""
    p = Path(path).expanduser()
    if p.is_dir():
        return p
    parent = p.parent
    while any(c in str(parent) for c in "*?["):
        parent = parent.parent
    for cand in (parent, *parent.parents):
        if (cand / "manifest.json").is_file():
            return cand
    return parent


def absolute_file_paths(ds: Any, root: str | os.PathLike) -> Any:
    """A ``datasets.Dataset`` whose ``depth_path`` / ``point_map_path`` are absolute (they are
    relative to ``root`` as written), so rows stay loadable after mixing, resampling, export."""
    cols = [c for c in ("depth_path", "point_map_path") if c in ds.column_names]
    if not cols:
        return ds
    root = dataset_root(root).resolve()

    def fix(*columns: list) -> dict[str, list]:
        return {c: [str(root / v) if v and not Path(v).is_absolute() else v for v in vals]
                for c, vals in zip(cols, columns, strict=True)}  # fmt: skip

    return ds.map(fix, batched=True, input_columns=cols) if len(ds) else ds


def add_point_maps_to_trainer(trainer: Any, estimator: PointMapEstimator | None = None) -> Any:
    """Make a TRL ``SFTTrainer`` (built for an RGB-D model) feed ``point_maps``: its collator is
    wrapped in :class:`RGBDDataCollator` and the depth columns are kept for it."""
    if estimator is None:  # fail here, not when the first row without depth is drawn
        for name, ds in (("train", trainer.train_dataset), ("eval", trainer.eval_dataset)):
            missing = rows_without_depth(ds) if ds is not None and hasattr(ds, "column_names") else []
            if missing:
                raise ConfigError(
                    f"data.{name}: {len(missing)} of {len(ds)} rows (e.g. row {missing[0]}) have no depth or point "
                    "map, which the RGB-D model needs: generate the data with depth, or give a point-map estimator"
                )
    trainer.args.remove_unused_columns = False  # the collator reads POINT_MAP_COLUMNS
    trainer.data_collator = RGBDDataCollator(
        trainer.data_collator, RGBDProcessor(trainer.processing_class, estimator=estimator)
    )
    return trainer
