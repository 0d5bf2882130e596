"""ARKitScenes 3DOD (apple/ARKitScenes): per-capture folders of low-resolution frames.

Layout: ``<video>/<video>_3dod_annotation.json`` and ``<video>/<video>_frames/`` with
``lowres_wide/<video>_<ts>.png`` (RGB), ``lowres_depth/<video>_<ts>.png`` (uint16 mm),
``lowres_wide_intrinsics/<video>_<ts>.pincam`` (``w h fx fy cx cy``) and ``lowres_wide.traj``
(lines ``ts ax ay az tx ty tz``: axis-angle and translation of the **world -> camera**
transform, as the official ``TrajStringToMatrix`` reads them before inverting).  Frames are
matched to poses by timestamp within 1 ms.  The world (laser scanner) frame is z up.

Annotation boxes (``data[].segments.obbAligned``): ``centroid`` (world), ``axesLengths``
(full extents) and ``normalizedAxes`` (9 numbers, row-major; **rows** are the box axes in the
world: the official ``compute_box_3d`` takes corners as ``rotmat.T @ local``).  A capture's
boxes are all in one world frame, so each frame keeps those in view: centre in front of the
camera and inside the image, and not hidden at its centre pixel (measured depth there at
least the centre's depth minus the box's half diagonal minus 5 cm).  2D boxes are
projections (flagged).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

import numpy as np
from scipy.spatial.transform import Rotation

from ...errors import ConfigError, DataError
from . import register
from .core import Frame, FrameRef, RawObject, decode_png, depth_mm, finite, in_view, scene_id

TIME_TOLERANCE = 0.001 + 1e-9  # seconds


def read_traj(path: Path) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """(timestamp, R_cw, t_cw) per line: the stored world -> camera transform."""
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            v = [float(x) for x in line.replace(",", " ").split()]
        except ValueError:
            raise DataError(f"{path}:{n}: not numbers: {line[:60]!r}") from None
        if len(v) != 7:
            raise DataError(f"{path}:{n}: expected 7 numbers (ts, axis-angle, translation), got {len(v)}")
        out.append((v[0], np.array(v[1:4]), np.array(v[4:7])))
    return out


def _pose(traj, ts: float, where: str) -> tuple[np.ndarray, np.ndarray]:
    if not traj:
        raise DataError(f"{where}: the trajectory is empty")
    times = np.array([t for t, _, _ in traj])
    i = int(np.argmin(np.abs(times - ts)))
    if abs(times[i] - ts) > TIME_TOLERANCE:
        raise DataError(f"{where}: no pose within 1 ms of timestamp {ts} (nearest {times[i]})")
    _, aa, t = traj[i]
    if not (np.all(np.isfinite(aa)) and np.all(np.isfinite(t))):
        raise DataError(f"{where}: the pose at {times[i]} is not finite")
    return Rotation.from_rotvec(aa).as_matrix(), t


def _boxes(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text())["data"]
        if not isinstance(data, list):
            raise TypeError("data is not a list")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"{path}: not a 3DOD annotation ({type(e).__name__}: {e})") from None
    return data


def _world_box(d: dict, n: int, path: Path) -> tuple[str, str, np.ndarray, np.ndarray, np.ndarray]:
    key = str(d.get("uid", n)) if isinstance(d, dict) else str(n)
    where = f"{path} box {key}"
    try:
        obb = d["segments"]["obbAligned"]
    except (KeyError, TypeError):
        raise DataError(f"{where}: missing segments.obbAligned") from None
    c = finite("centroid", obb.get("centroid"), where, (3,))
    ext = finite("axesLengths", obb.get("axesLengths"), where, (3,))
    rows = finite("normalizedAxes", obb.get("normalizedAxes"), where, (3, 3))
    if not np.allclose(rows @ rows.T, np.eye(3), atol=1e-3):
        raise DataError(f"{where}: normalizedAxes is not orthonormal")
    label = str(d.get("label") or "").replace("_", " ").strip()
    return key, label, c, rows, ext


def _load(cap: Path, video: str, ts_text: str, traj, boxes) -> Frame:
    fdir = cap / f"{video}_frames"
    name = f"{video}_{ts_text}"
    where = f"{fdir}: frame {ts_text}"
    img_path = fdir / "lowres_wide" / f"{name}.png"
    pincam = fdir / "lowres_wide_intrinsics" / f"{name}.pincam"
    for p in (img_path, pincam):
        if not p.is_file():
            raise DataError(f"{where}: missing {p.relative_to(cap)}")
    rgb = decode_png(img_path.read_bytes(), str(img_path), mode="RGB")
    H, W = rgb.shape[:2]
    try:
        w, h, fx, fy, cx, cy = (float(x) for x in pincam.read_text().split())
    except ValueError:
        raise DataError(f"{pincam}: expected 6 numbers 'w h fx fy cx cy'") from None
    if (int(w), int(h)) != (W, H):
        raise DataError(f"{where}: pincam says {int(w)}x{int(h)}, the image is {W}x{H}")
    finite("intrinsics", [fx, fy, cx, cy], str(pincam), (4,))
    R_cw, t_cw = _pose(traj, float(ts_text), where)
    dpath = fdir / "lowres_depth" / f"{name}.png"
    depth = depth_mm(dpath.read_bytes(), str(dpath), (H, W)) if dpath.is_file() else None
    objs, dropped = [], {}
    for key, label, c, rows, ext in boxes:
        center_cam = R_cw @ c + t_cw  # the file's transform is world -> camera: apply it as is
        if not in_view(center_cam, ext, (fx, fy, cx, cy), (H, W), depth):
            continue  # boxes of the capture this frame does not see are not objects of the frame
        objs.append(RawObject(key, label, center_cam, R_cw @ rows.T, ext))
    R_wc = R_cw.T  # camera -> world, for the up vector and the camera centre
    up = R_wc.T @ np.array([0.0, 0.0, 1.0])
    return Frame("arkitscenes", video, ts_text, rgb, depth, (fx, fy, cx, cy), up, objs, dropped=dropped,
                 where=where, metadata={"camera_center_world": (-R_wc @ t_cw).tolist()})


_FRAME = re.compile(r"^(?P<video>.+)_(?P<ts>\d+(?:\.\d+)?)\.png$")


def _capture(cap: Path) -> Iterator[FrameRef]:
    video = cap.name
    ann = cap / f"{video}_3dod_annotation.json"
    traj_path = cap / f"{video}_frames" / "lowres_wide.traj"
    try:
        for p in (ann, traj_path):
            if not p.is_file():
                raise DataError(f"capture {cap}: missing {p.relative_to(cap)}")
        traj = read_traj(traj_path)
        boxes, bad = [], {}
        for n, d in enumerate(_boxes(ann)):
            try:
                boxes.append(_world_box(d, n, ann))
            except DataError as e:
                bad[str(d.get("uid", n)) if isinstance(d, dict) else str(n)] = str(e)
    except DataError as e:
        yield FrameRef(scene_id("arkitscenes", video, "capture"), error=str(e))
        return
    frames = sorted(p.name for p in (cap / f"{video}_frames" / "lowres_wide").glob(f"{video}_*.png"))
    for fname in frames:
        m = _FRAME.match(fname)
        if m is None:
            continue
        ts = m["ts"]

        def load(ts=ts):
            frame = _load(cap, video, ts, traj, boxes)
            frame.dropped.update(bad)
            return frame
        yield FrameRef(scene_id("arkitscenes", video, ts), load)


@register("arkitscenes")
def read_arkitscenes(input: Path) -> Iterator[FrameRef]:
    """INPUT: one capture folder ``<video>/`` or a folder of them (read in name order)."""
    input = Path(input)
    if not input.is_dir():
        raise ConfigError(f"arkitscenes: {input} is not a folder (expected <video>/ or a folder of them)")
    if (input / f"{input.name}_3dod_annotation.json").exists() or (input / f"{input.name}_frames").is_dir():
        caps = [input]
    else:
        caps = sorted(p for p in input.iterdir() if p.is_dir() and (p / f"{p.name}_frames").is_dir())
    if not caps:
        raise ConfigError(f"arkitscenes: no capture folders (<video>/<video>_frames/) in {input}")
    for cap in caps:
        yield from _capture(cap)
