import math

import numpy as np

from spatialforge.scene import Scene


def ingested_scenes(out):
    """``{scene id: Scene}`` of an ``ingest`` output folder."""
    return {p.stem: Scene.load(p) for p in sorted(out.glob("*.json")) if p.name != "manifest.json"}


def assert_same_box(got, want, tol=1e-4):
    assert np.allclose(got.center, want.center, atol=tol), (got, want)
    assert np.allclose(got.size, want.size, atol=tol), (got, want)
    d = (got.yaw - want.yaw + math.pi / 2) % math.pi - math.pi / 2  # undirected yaw
    assert abs(d) < tol, (got.yaw, want.yaw)


def assert_same_camera(got, want, tol=1e-6):
    assert (got.width, got.height) == (want.width, want.height)
    assert np.allclose([got.fx, got.fy, got.cx, got.cy], [want.fx, want.fy, want.cx, want.cy], atol=tol)
    assert np.allclose(got.R, want.R, atol=tol), (got.R, want.R)
