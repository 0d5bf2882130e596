"""CA-1M (apple/ml-cubifyanything): one WebDataset tar per capture.

Members are ``<video>/<timestamp_ns>.<sensor>/<measurement>[.ext]``; as in the official
loader, a member's key is the part after the first "." up to the next one, lower-cased
(``wide/image``, ``wide/image/k``, ``_wide/image/size``, ``wide/depth``, ``wide/instances``,
``wide/t_gravity``, ``gt/rt``, ``gt/depth``, ``gt/depth/k``, ...); ``<video>/world.*`` holds
the capture's world-frame boxes (not needed here).

Conventions read here: per-frame ``wide/instances`` are boxes in the wide camera's frame
(OpenCV; the loader sets ``wide.RT = I``): ``position`` is the centre, ``R`` maps box-local to
camera coordinates (its columns are the box axes), ``scale`` is ``[l, h, w]``, the full
extents along local x, y, z (``GeneralInstance3DBoxes.corners``: ``R @ (±l, ±h, ±w)/2``;
the gravity-aligned boxes have local y vertical, like Omni3D's).
``gt/rt`` is the 4x4 camera -> world pose (row-major) in the laser scanner's z-up world;
``wide/t_gravity`` is the 3x3 rotation camera -> gravity-aligned camera (x right, y down).
Depth PNGs are uint16 millimetres, 0 = no data; ``gt/depth`` (laser) is preferred over
``wide/depth`` (ARKit LiDAR) and resampled to the image size (nearest).  Sizes are "[W, H]".
"""

from __future__ import annotations

import json
import math
import tarfile
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np

from ...errors import ConfigError, DataError
from . import register
from .core import Frame, FrameRef, RawObject, decode_png, depth_mm, finite, rotation, scene_id

UP_AGREEMENT_DEG = 1.0  # gt/RT and wide/T_gravity must agree on up this closely


def member_key(name: str) -> tuple[str, str]:
    """(``<video>/<timestamp>``, key) of a member name, split like the official loader."""
    parts = name.split(".")
    return parts[0], (parts[1].lower() if len(parts) > 1 else "")


def _json(sample: dict, key: str, where: str):
    try:
        return json.loads(sample[key].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise DataError(f"{where}: member {key!r} is not JSON ({e})") from None


def _size(sample: dict, key: str, where: str) -> tuple[int, int] | None:
    if key not in sample:
        return None
    try:
        w, h = (int(x) for x in sample[key].decode("utf-8").strip().strip("[]").split(","))
    except ValueError:
        raise DataError(f"{where}: member {key!r} is not a size \"[W, H]\": {sample[key][:40]!r}") from None
    return w, h


def _up(sample: dict, where: str) -> tuple[np.ndarray, dict]:
    ups, meta = {}, {}
    if "gt/rt" in sample:
        RT = finite("gt/rt", _json(sample, "gt/rt", where), where, (4, 4))
        R_wc = rotation("gt/rt rotation", RT[:3, :3], where)
        ups["gt/rt"] = R_wc.T @ np.array([0.0, 0.0, 1.0])  # world z (up) seen from the camera
        meta["pose_translation"] = RT[:3, 3].tolist()  # the camera centre in the world, as stored
    if "wide/t_gravity" in sample:
        G = rotation("wide/t_gravity", _json(sample, "wide/t_gravity", where), where)
        ups["wide/t_gravity"] = G.T @ np.array([0.0, -1.0, 0.0])  # gravity camera's "up" (-y)
    if not ups:
        raise DataError(f"{where}: no gt/RT or wide/T_gravity member: gravity unknown")
    if len(ups) == 2:
        a, b = ups["gt/rt"], ups["wide/t_gravity"]
        ang = math.degrees(math.acos(float(np.clip(a @ b, -1, 1))))
        if ang > UP_AGREEMENT_DEG:
            raise DataError(f"{where}: gt/RT and wide/T_gravity disagree on up by {ang:.1f} deg")
    return next(iter(ups.values())), meta


def _box2d(v):
    if v is None:
        return None
    a = np.asarray(v, float).reshape(-1)
    if a.size != 4 or not np.all(np.isfinite(a)) or a[2] <= a[0] or a[3] <= a[1]:
        return None
    return tuple(float(x) for x in a)


def _object(inst: dict, where: str) -> RawObject:
    key = str(inst.get("id", "?"))
    where = f"{where} instance {key}"
    for k in ("position", "scale", "R"):
        if k not in inst:
            raise DataError(f"{where}: missing {k!r}")
    rend, proj = _box2d(inst.get("box_2d_rend")), _box2d(inst.get("box_2d_proj"))
    R, scale = rotation("R", inst["R"], where), finite("scale", inst["scale"], where, (3,))
    # scale is [l, h, w] along R's columns x, y, z (GeneralInstance3DBoxes.corners); put the
    # w axis (z) first so it becomes our w, as for Omni3D
    return RawObject(key, str(inst.get("category") or ""), finite("position", inst["position"], where, (3,)),
                     R[:, [2, 0, 1]], scale[[2, 0, 1]],
                     box2d=rend or proj, box2d_projected=rend is None and proj is not None)


def load_sample(sample: dict, video: str, ts: str, where: str) -> Frame:
    for k in ("wide/image", "wide/image/k", "wide/instances"):
        if k not in sample:
            raise DataError(f"{where}: missing member {k!r}")
    rgb = decode_png(sample["wide/image"], f"{where} wide/image", mode="RGB")
    H, W = rgb.shape[:2]
    size = _size(sample, "_wide/image/size", where)
    if size is not None and size != (W, H):
        raise DataError(f"{where}: wide/image is {W}x{H} but _wide/image/size says {size[0]}x{size[1]}")
    K = finite("wide/image/K", _json(sample, "wide/image/k", where), where, (3, 3))
    up, meta = _up(sample, where)
    depth = None
    for src in ("gt/depth", "wide/depth"):
        if src in sample:
            depth = depth_mm(sample[src], f"{where} {src}", (H, W))
            meta["depth_source"] = src
            break
    insts = _json(sample, "wide/instances", where)
    if not isinstance(insts, list):
        raise DataError(f"{where}: wide/instances must be a list, got {type(insts).__name__}")
    objs, dropped = [], {}
    for inst in insts:
        try:
            objs.append(_object(inst, where))
        except DataError as e:
            dropped[str(inst.get("id", "?")) if isinstance(inst, dict) else "?"] = str(e)
    return Frame("ca1m", video, ts, rgb, depth, (K[0, 0], K[1, 1], K[0, 2], K[1, 2]), up, objs,
                 metadata=meta, dropped=dropped, where=where)


def _read_tar(path: Path) -> Iterator[FrameRef]:
    """Frames of one capture tar, streamed in member order (a sample's members are adjacent)."""
    group: dict[str, bytes] = {}
    prefix = None
    count = 0

    def ref(prefix: str, sample: dict) -> FrameRef:
        video, _, ts = prefix.partition("/")
        where = f"{path.name}: {prefix}"
        return FrameRef(scene_id("ca1m", video, ts), lambda: load_sample(sample, video, ts, where))

    try:
        with tarfile.open(path, "r|*") as tf:
            for m in tf:
                if not m.isfile():
                    continue
                p, key = member_key(m.name)
                if p != prefix:
                    if prefix is not None and not prefix.endswith("/world"):
                        count += 1
                        yield ref(prefix, group)
                    prefix, group = p, {}
                group[key] = tf.extractfile(m).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        yield FrameRef(f"ca1m-{path.stem}-truncated",
                       error=f"{path}: truncated or unreadable tar after {count} frames ({e}); "
                             "the frame being read when it ended is not ingested")
        return
    if prefix is not None and not prefix.endswith("/world"):
        yield ref(prefix, group)


@register("ca1m")
def read_ca1m(input: Path) -> Iterator[FrameRef]:
    """INPUT: one capture tar, or a folder of them (read in name order)."""
    input = Path(input)
    tars = sorted(input.glob("*.tar")) if input.is_dir() else [input]
    if not tars:
        raise ConfigError(f"ca1m: no *.tar files in {input}")
    for t in tars:
        yield from _read_tar(t)
