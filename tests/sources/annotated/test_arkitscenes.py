"""ARKitScenes reader: round trip of synthetic scenes (world->camera trajectories, a z-up
world turned and moved away from ours, mm depth), a hand-written fixture, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from spatialforge.sources.annotated import ingest
from tests.sources.annotated.helpers import assert_same_box, assert_same_camera, ingested_scenes
from tests.sources.annotated.writers import _png, depth_mm, write_arkitscenes


def test_round_trip(samples, tmp_path):
    videos = write_arkitscenes(samples, tmp_path / "d")
    m = ingest("arkitscenes", tmp_path / "d", tmp_path / "out")
    scenes = ingested_scenes(tmp_path / "out")
    assert not m.skipped and len(scenes) == len(samples)
    for n, (smp, video) in enumerate(zip(samples, videos)):
        sc = scenes[f"arkitscenes-{video}-{6845.799 + n:.3f}"]
        assert_same_camera(sc.camera, smp.scene.camera)
        keys = sc.metadata["object_keys"]
        for got, key in zip(sc.objects, keys):
            o = smp.scene.object(int(key))
            assert got.category == o.category
            assert_same_box(got.box3d, o.box3d)
        # every fully visible object is found; boxes never seen by this frame are not
        seen = {int(k) for k in keys}
        assert {o.id for o in smp.scene.objects if o.occlusion == 0 and o.truncation == 0 and o.mask} <= seen
        assert seen <= {o.id for o in smp.scene.objects if o.mask is not None and o.mask.area}
        assert sc.metadata["box2d_projected"] == list(range(len(sc.objects)))
        assert np.array_equal(sc.load_depth(), depth_mm(smp.depth).astype(np.float32) / 1000)
        assert np.allclose(sc.metadata["camera_center_world"], [1.5, -0.5 + n, 1.2])


VIDEO = "47333462"
C, S = math.cos(math.radians(30)), math.sin(math.radians(30))


def _hand(root, traj=None, box=None, depth_mm_value=2700, drop=()):
    """A level camera at (1, 2, 1.5) looking along world +x (image right = world -y), and a box
    3 m ahead, 0.5 m below the camera, turned 30 deg about z.  World -> camera by hand:
    R_cw = [[0,-1,0],[0,0,-1],[1,0,0]] (120 deg about (1,-1,1)/sqrt 3), t_cw = -R_cw C = (2, 1.5, -1)."""
    fdir = root / VIDEO / f"{VIDEO}_frames"
    for sub in ("lowres_wide", "lowres_depth", "lowres_wide_intrinsics"):
        (fdir / sub).mkdir(parents=True, exist_ok=True)
    name = f"{VIDEO}_6845.799"
    (fdir / "lowres_wide" / f"{name}.png").write_bytes(_png(np.zeros((48, 64, 3), np.uint8)))
    (fdir / "lowres_depth" / f"{name}.png").write_bytes(_png(np.full((48, 64), depth_mm_value, np.uint16)))
    (fdir / "lowres_wide_intrinsics" / f"{name}.pincam").write_text("64 48 50.0 50.0 32.0 24.0")
    k = 2 * math.pi / 3 / math.sqrt(3)
    (fdir / "lowres_wide.traj").write_text(traj if traj is not None else f"6845.7994 {k} {-k} {k} 2.0 1.5 -1.0\n")
    box = box or {"uid": "u1", "label": "tv_monitor", "segments": {"obbAligned": {
        "centroid": [4.0, 2.0, 1.0], "axesLengths": [0.8, 0.6, 1.0],
        "normalizedAxes": [C, S, 0, -S, C, 0, 0, 0, 1]}}}  # rows: the box's axes in the world
    (root / VIDEO / f"{VIDEO}_3dod_annotation.json").write_text(json.dumps({"data": [box]}))
    for rel in drop:
        (root / VIDEO / rel).unlink()
    return root / VIDEO


def test_hand_written_fixture(tmp_path):
    ingest("arkitscenes", _hand(tmp_path / "d"), tmp_path / "out")
    (sc,) = ingested_scenes(tmp_path / "out").values()
    assert np.allclose(sc.camera.R, [[1, 0, 0], [0, 0, 1], [0, -1, 0]])  # a level camera
    (o,) = sc.objects
    assert o.category == "tv monitor"
    # ours: x = world -y, y = world +x (forward), z up, origin at the camera centre (1, 2, 1.5)
    assert np.allclose(o.box3d.center, (0.0, 3.0, -0.5))
    assert np.allclose(o.box3d.size, (0.8, 1.0, 0.6))
    # the first axis (cos 30, sin 30, 0) in world is (-sin 30, cos 30, 0) in ours: 120 deg == -60 deg
    assert math.isclose(o.box3d.yaw, -math.pi / 3)
    assert np.allclose(sc.metadata["camera_center_world"], [1, 2, 1.5])
    # no 2D box in ARKitScenes: the projection, flagged; it holds the centre's pixel (32, 24 + 50 * 0.5 / 3)
    x0, y0, x1, y1 = o.box2d
    assert sc.metadata["box2d_projected"] == [0] and x0 < 32 < x1 and y0 < 24 + 25 / 3 < y1 and y1 <= 48


@pytest.mark.parametrize("kw,reason", [
    ({"traj": "6845.802 0 0 0 0 0 0\n"}, "no pose within 1 ms"),
    ({"traj": "6845.799 nan 0 0 0 0 0\n"}, "not finite"),
    ({"depth_mm_value": 1000}, "no usable objects (no annotations)"),  # hidden behind something 1 m away
    ({"drop": (f"{VIDEO}_frames/lowres_wide_intrinsics/{VIDEO}_6845.799.pincam",)}, "missing"),
])
def test_bad_frames_are_skipped_with_reason(tmp_path, kw, reason):
    m = ingest("arkitscenes", _hand(tmp_path / "d", **kw), tmp_path / "out")
    assert not m.done
    (msg,) = m.skipped.values()
    assert reason in msg, msg


@pytest.mark.parametrize("kw,reason", [
    ({"box": {"uid": "u1", "label": "", "segments": {"obbAligned": {
        "centroid": [4.0, 2.0, 1.0], "axesLengths": [0.8, 0.6, 1.0], "normalizedAxes": [1, 0, 0, 0, 1, 0, 0, 0, 1]}}}},
     "unknown category"),
    ({"box": {"uid": "u1", "label": "chair", "segments": {"obbAligned": {
        "centroid": [4.0, 2.0, 1.0], "axesLengths": [0.8, 0.0, 1.0], "normalizedAxes": [1, 0, 0, 0, 1, 0, 0, 0, 1]}}}},
     "size must be positive"),
    ({"box": {"uid": "u1", "label": "chair"}}, "missing segments.obbAligned"),
])
def test_bad_boxes_are_recorded(tmp_path, kw, reason):
    m = ingest("arkitscenes", _hand(tmp_path / "d", **kw), tmp_path / "out")
    (msg,) = m.skipped.values()
    assert "no usable objects" in msg and reason in msg, msg


def test_without_depth_boxes_outside_the_image_are_not_objects(tmp_path):
    # no depth map: the view test still needs the centre inside the image.  Box 3 m ahead and
    # 2 m to the camera's right (world y = 2 - 2): centre column 32 + 50 * 2 / 3 = 65.3 > 64,
    # while its near edge (x = 1.75 at z = 3.25, column 58.9) would project into the image
    box = {"uid": "u2", "label": "chair", "segments": {"obbAligned": {
        "centroid": [4.0, 0.0, 1.0], "axesLengths": [0.5, 0.5, 0.5], "normalizedAxes": [1, 0, 0, 0, 1, 0, 0, 0, 1]}}}
    cap = _hand(tmp_path / "d", box=box, drop=(f"{VIDEO}_frames/lowres_depth/{VIDEO}_6845.799.png",))
    m = ingest("arkitscenes", cap, tmp_path / "out")
    assert not m.done and "no usable objects" in next(iter(m.skipped.values()))
    cap = _hand(tmp_path / "e", drop=(f"{VIDEO}_frames/lowres_depth/{VIDEO}_6845.799.png",))
    ingest("arkitscenes", cap, tmp_path / "out2")
    (sc,) = ingested_scenes(tmp_path / "out2").values()
    assert len(sc.objects) == 1 and sc.depth_path is None


def test_missing_capture_files(tmp_path):
    m = ingest("arkitscenes", _hand(tmp_path / "d", drop=(f"{VIDEO}_3dod_annotation.json",)), tmp_path / "out")
    assert "missing 47333462_3dod_annotation.json" in m.skipped[f"arkitscenes-{VIDEO}-capture"]
