"""Errors of estimated 3D boxes against ground truth (shared by the benchmarks and the demo)."""

from __future__ import annotations

import math

import numpy as np

from ..scene import Box3D
from .gravity import gravity_angle_deg

__all__ = ["NON_SQUARE", "box_errors", "gravity_angle_deg"]

NON_SQUARE = 1.25


def _matched_footprint(est: Box3D, gt: Box3D) -> tuple[float, float, float]:
    """(w, l, yaw) of ``est`` in the description (yaw or yaw + 90 deg) closest to gt's yaw."""
    w, _, l = est.size
    d = (est.yaw - gt.yaw) % math.pi  # in [0, pi)
    turned = math.pi / 4 <= d < 3 * math.pi / 4
    return (l, w, est.yaw + math.pi / 2) if turned else (w, l, est.yaw)


def _long_axis_angle(box: Box3D) -> float:
    return box.yaw if box.size[0] >= box.size[2] else box.yaw + math.pi / 2


def box_errors(est: Box3D, gt: Box3D, R_est: np.ndarray, R_gt: np.ndarray) -> dict[str, float]:
    """Errors of one estimated box against its GT box (each in its own gravity frame)."""
    centre_cam_est = R_est.T @ np.asarray(est.center)
    centre_cam_gt = R_gt.T @ np.asarray(gt.center)
    gw, gh, gl = gt.size
    if max(gw, gl) / min(gw, gl) >= NON_SQUARE:
        ew, el, _ = _matched_footprint(est, gt)
    else:  # near-square: orientation is ill-defined, match long side to long side
        ew, el = sorted((est.size[0], est.size[2]), reverse=gw >= gl)
    rel = [abs(ew - gw) / gw, abs(est.size[1] - gh) / gh, abs(el - gl) / gl]
    out = {
        "centre": float(np.linalg.norm(centre_cam_est - centre_cam_gt)),
        "size": float(np.mean(rel)),
        "size_w": rel[0], "size_h": rel[1], "size_l": rel[2],
        "signed_w": (ew - gw) / gw, "signed_h": (est.size[1] - gh) / gh, "signed_l": (el - gl) / gl,
    }
    if max(gw, gl) / min(gw, gl) >= NON_SQUARE:
        d = abs(_long_axis_angle(est) - _long_axis_angle(gt)) % math.pi
        out["yaw"] = math.degrees(min(d, math.pi - d))
    return out
