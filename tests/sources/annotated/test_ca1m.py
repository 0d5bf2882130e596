"""CA-1M reader: round trip of synthetic scenes through a capture tar, a hand-written
real-form fixture, bad input (missing members, truncated tar, NaN poses, zero-size boxes)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from spatialforge.sources.annotated import ingest
from tests.sources.annotated.helpers import assert_same_box, assert_same_camera, ingested_scenes
from tests.sources.annotated.writers import _png, depth_mm, visible, write_ca1m, write_tar

VIDEO = "42897501"


def test_round_trip(samples, tmp_path):
    tar = write_ca1m(samples, tmp_path / "d")
    m = ingest("ca1m", tar, tmp_path / "out")
    scenes = ingested_scenes(tmp_path / "out")
    assert not m.skipped and len(scenes) == len(samples)
    for n, smp in enumerate(samples):
        sc = scenes[f"ca1m-{VIDEO}-{1_000_000_000 * (n + 1)}"]
        assert_same_camera(sc.camera, smp.scene.camera)
        want = visible(smp.scene)
        assert len(sc.objects) == len(want)
        for got, o in zip(sc.objects, want):
            assert_same_box(got.box3d, o.box3d)
            assert got.category == ("object" if o.id % 2 else o.category) and got.box2d == o.box2d
        depth = sc.load_depth()
        assert np.array_equal(depth, depth_mm(smp.depth).astype(np.float32) / 1000)  # mm quantisation only
        assert np.abs(depth - smp.depth).max() <= 0.0005 + 1e-6
        assert sc.metadata["pose_translation"] == [3.0, -2.0, 1.4]  # the stored centre, never -R^T t
        assert sc.metadata["depth_source"] == "wide/depth"


A = math.radians(30)
# camera -> world (z up) of a camera pitched 30 deg down: optical axis -> (0, cos, -sin),
# image down -> (0, -sin, -cos), image right -> world x
R_WC = np.array([[1, 0, 0], [0, -math.sin(A), math.cos(A)], [0, -math.cos(A), -math.sin(A)]])
# camera -> level camera (x right, y down, z forward): the optical axis tips down (+y)
T_GRAVITY = [[1, 0, 0], [0, math.cos(A), math.sin(A)], [0, -math.sin(A), math.cos(A)]]


# the box's local axes in the world: x = world x, y = down (-z), z = x × y = world y
R_BOX_WORLD = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])


def _box(**kw):
    # a gravity-aligned box 2 m along the optical axis; R maps its local axes to the camera
    # (R_WC^T R_BOX_WORLD); scale is [l, h, w]: 0.3 along world x, 0.2 tall, 0.5 along world y
    d = {"id": "b1", "category": "object", "position": [0.0, 0.0, 2.0], "R": (R_WC.T @ R_BOX_WORLD).tolist(),
         "scale": [0.3, 0.2, 0.5], "box_2d_rend": [20, 18, 44, 30], "box_2d_proj": [19, 17, 45, 31]}
    d.update(kw)
    return d


def _hand_members(rt=None, tg=None, insts=None, drop=()):
    """A frame in the real member layout: 64x48 image, 16x12 LiDAR depth (the real 4:1 ratio)."""
    p = f"{VIDEO}/5000000000."
    RT = np.eye(4)
    RT[:3, :3], RT[:3, 3] = R_WC, [10.0, 20.0, 1.5]
    depth = np.full((12, 16), 2000, np.uint16)
    depth[0, 0] = 0  # no data
    m = {
        p + "wide/image.png": _png(np.zeros((48, 64, 3), np.uint8)),
        p + "_wide/image/size": b"[64, 48]",
        p + "wide/image/K": json.dumps([[50.0, 0, 32.0], [0, 50.0, 24.0], [0, 0, 1]]).encode(),
        p + "wide/depth.png": _png(depth),
        p + "gt/RT.json": json.dumps(rt if rt is not None else RT.tolist()).encode(),
        p + "wide/T_gravity.json": json.dumps(tg if tg is not None else T_GRAVITY).encode(),
        p + "wide/instances.json": json.dumps(insts if insts is not None else [_box()]).encode(),
    }
    return {k: v for k, v in m.items() if not any(k.endswith(x) for x in drop)}


def _ingest(tmp_path, **kw):
    m = ingest("ca1m", write_tar(tmp_path / "c.tar", _hand_members(**kw)), tmp_path / "out")
    return m, list(ingested_scenes(tmp_path / "out").values())


def test_hand_written_fixture(tmp_path):
    m, (sc,) = _ingest(tmp_path)
    (o,) = sc.objects
    # 2 m along an axis pitched 30 deg down: 2 cos 30 ahead, 2 sin 30 below the camera
    assert np.allclose(o.box3d.center, (0.0, 2 * math.cos(A), -2 * math.sin(A)))
    # w (local z, along world y = our forward) is 0.5, so yaw = 90 deg, wrapped to -90 deg
    assert np.allclose(o.box3d.size, (0.5, 0.2, 0.3)) and math.isclose(o.box3d.yaw, -math.pi / 2)
    assert np.allclose(sc.camera.R, R_WC)  # no heading in the world: ours equals the scanner's rotation
    assert o.box2d == (20, 18, 44, 30) and sc.metadata["box2d_projected"] == []
    assert sc.metadata["pose_translation"] == [10.0, 20.0, 1.5]


@pytest.mark.parametrize("drop", ["gt/RT.json", "wide/T_gravity.json"])
def test_either_gravity_source_alone(tmp_path, drop):
    _, (sc,) = _ingest(tmp_path, drop=(drop,))
    assert np.allclose(sc.camera.R, R_WC)


def test_projected_box_is_flagged(tmp_path):
    _, (sc,) = _ingest(tmp_path, insts=[_box(box_2d_rend=[-1, -1, -1, -1])])
    assert sc.objects[0].box2d == (19, 17, 45, 31) and sc.metadata["box2d_projected"] == [0]


@pytest.mark.parametrize("kw,reason", [
    ({"drop": ("wide/instances.json",)}, "missing member 'wide/instances'"),
    ({"drop": ("wide/image/K",)}, "missing member 'wide/image/k'"),
    ({"drop": ("gt/RT.json", "wide/T_gravity.json")}, "gravity unknown"),
    ({"rt": [[float("nan")] * 4] * 4}, "gt/rt is not finite"),
    ({"tg": np.array(T_GRAVITY).T.tolist()}, "disagree on up by 60.0 deg"),
    ({"insts": [_box(scale=[0.3, 0.0, 0.5])]}, "size must be positive"),
    ({"insts": [_box(category="")]}, "unknown category"),
    ({"insts": [_box(R=np.eye(3).tolist())]}, "not gravity-aligned"),
])
def test_bad_frames_are_skipped_with_reason(tmp_path, kw, reason):
    m, scenes = _ingest(tmp_path, **kw)
    assert not scenes and not m.done
    (msg,) = m.skipped.values()
    assert reason in msg and "c.tar" in msg, msg


def test_truncated_tar_keeps_earlier_frames(samples, tmp_path):
    tar = write_ca1m(samples, tmp_path / "d")
    data = tar.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) * 3 // 4])
    m = ingest("ca1m", cut, tmp_path / "out")
    assert m.done == [f"ca1m-{VIDEO}-1000000000"]
    (key, msg), = m.skipped.items()
    assert "truncated or unreadable tar after 1 frames" in msg and str(cut) in msg


def test_depth_is_metres_at_image_size(tmp_path):
    ingest("ca1m", write_tar(tmp_path / "c.tar", _hand_members()), tmp_path / "out")
    (sc,) = ingested_scenes(tmp_path / "out").values()
    d = sc.load_depth()
    assert d.shape == (48, 64) and d[10, 10] == 2.0  # 2000 mm
    assert (d[:4, :4] == 0).all() and d[4, 4] == 2.0  # one depth pixel covers 4x4 image pixels
