"""Hypersim reader: round trip of synthetic scenes (asset units in inches, OpenGL camera,
Euclidean distances), a hand-written fixture with hand-computed numbers, tilt-shift cameras,
the official tonemap, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spatialforge.sources.annotated import ingest
from spatialforge.sources.annotated.hypersim import FLIP, NYU40, camera_from_uv, tonemap
from tests.sources.annotated.helpers import assert_same_box, assert_same_camera, ingested_scenes
from tests.sources.annotated.writers import m_cam_from_uv, write_h5, write_hypersim

pytest.importorskip("h5py")


def test_round_trip(samples, tmp_path):
    names = write_hypersim(samples, tmp_path / "d")
    m = ingest("hypersim", tmp_path / "d", tmp_path / "out")
    scenes = ingested_scenes(tmp_path / "out")
    assert not m.skipped and len(scenes) == len(samples)
    for smp, name in zip(samples, names):
        sc = scenes[f"hypersim-{name}-cam_00.0000"]
        assert_same_camera(sc.camera, smp.scene.camera)
        assert sc.metadata["meters_per_asset_unit"] == 0.0254
        assert sc.metadata["intrinsics"] == "metadata_camera_parameters.csv"
        keys = [int(k) - 1 for k in sc.metadata["object_keys"]]  # instance id = object id + 1
        seen = {int(i) for i in np.unique(smp.instance_ids[smp.instance_ids >= 0])}
        assert sorted(keys) == sorted(seen) and not sc.metadata["box2d_projected"]
        for got, oid in zip(sc.objects, keys):
            want = smp.scene.object(oid)
            assert_same_box(got.box3d, want.box3d)
            assert got.category == (want.category if want.category in NYU40 else "otherprop")
            rows, cols = np.nonzero(smp.instance_ids == oid)
            assert got.box2d == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
            assert np.array_equal(got.mask.decode(), smp.instance_ids == oid)  # Hypersim labels every pixel
        assert np.allclose(sc.load_depth(), np.nan_to_num(smp.depth), atol=1e-4)


def _hand(root, dist=5.0, M=None, extents=(50.0, 25.0, 40.0)):
    """A 4x2 image, no camera CSV (standard 60 deg camera: fx = fy = 4 / (2 tan 30) = 2 sqrt 3,
    cx = 2, cy = 1), 1 asset unit = 2 cm.  A level Hypersim camera at (100, 200, 50) looks
    along world +y: its axes x right = (1, 0, 0), y up = (0, 0, 1), z back = (0, -1, 0).
    Instance 3 (NYU40 5 = chair): box at (100, 300, 25), extents ``extents``, identity
    orientation.  Instance 1 is a wall; instance 7 has no box row."""
    d = root / "ai_007_003"
    (d / "_detail").mkdir(parents=True)
    (d / "_detail" / "metadata_scene.csv").write_text("parameter_name,parameter_value\nmeters_per_asset_unit,0.02\n")
    write_h5(d / "_detail/cam_00/camera_keyframe_positions.hdf5", [[100.0, 200.0, 50.0]])
    write_h5(d / "_detail/cam_00/camera_keyframe_orientations.hdf5", [[[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]])
    pos = [[0, 0, 0], [1, 1, 1], [0, 0, 0], [100.0, 300.0, 25.0]]
    ext = [[1, 1, 1], [1, 1, 1], [1, 1, 1], list(extents)]
    mesh = "_detail/mesh/metadata_semantic_instance_bounding_box_object_aligned_2d_"
    write_h5(d / f"{mesh}positions.hdf5", pos)
    write_h5(d / f"{mesh}extents.hdf5", ext)
    write_h5(d / f"{mesh}orientations.hdf5", np.stack([np.eye(3)] * 4))
    geo, fin = d / "images/scene_cam_00_geometry_hdf5", d / "images/scene_cam_00_final_hdf5"
    write_h5(fin / "frame.0000.color.hdf5", np.full((2, 4, 3), 0.5, np.float32))
    depth = np.full((2, 4), 3.0, np.float32)
    depth[1, 3] = dist
    write_h5(geo / "frame.0000.depth_meters.hdf5", depth)
    write_h5(geo / "frame.0000.semantic_instance.hdf5", np.array([[1, 1, -1, 7], [-1, 3, 3, 3]], np.int16))
    write_h5(geo / "frame.0000.semantic.hdf5", np.array([[1, 1, 0, 5], [0, 5, 5, 5]], np.int16))
    if M is not None:
        (root / "metadata_camera_parameters.csv").write_text(
            "scene_name," + ",".join(f"M_cam_from_uv_{i}{j}" for i in range(3) for j in range(3)) + "\n"
            + "ai_007_003," + ",".join(repr(float(v)) for v in np.reshape(M, -1)) + "\n")
    return d


def test_hand_written_fixture(tmp_path):
    m = ingest("hypersim", _hand(tmp_path / "d"), tmp_path / "out")
    (sc,) = ingested_scenes(tmp_path / "out").values()
    cam = sc.camera
    assert np.allclose([cam.fx, cam.fy, cam.cx, cam.cy], [2 * math.sqrt(3), 2 * math.sqrt(3), 2, 1])
    assert np.allclose(cam.R, [[1, 0, 0], [0, 0, 1], [0, -1, 0]])
    (o,) = sc.objects
    # box centre (2, 6, 0.5) m minus the camera centre (2, 4, 1) m; extents x 0.02: w 1.0, l 0.5, h 0.8
    assert o.category == "chair" and np.allclose(o.box3d.center, (0, 2, -0.5))
    assert np.allclose(o.box3d.size, (1.0, 0.8, 0.5)) and abs(o.box3d.yaw) < 1e-9
    assert o.box2d == (1, 1, 4, 2)
    assert sc.metadata["dropped_objects"] == {"7": "semantic instance 7 has no bounding box (4 boxes)"}
    assert sc.metadata["intrinsics"] == "standard 60 deg fov"
    # pixel (row 1, col 3): ray (1.5 / 2 sqrt 3, 0.5 / 2 sqrt 3, 1), |ray|^2 = 1 + 3/16 + 1/48 = 29/24
    depth = sc.load_depth()
    assert depth[1, 3] == pytest.approx(5.0 * math.sqrt(24 / 29), abs=1e-5)
    assert depth[0, 0] == pytest.approx(3.0 / math.sqrt(1 + 3 / 16 + 1 / 48), abs=1e-5)  # symmetric pixel
    assert not m.skipped


def test_tilt_shift_camera_is_exact():
    """A camera tilted 10 deg about x with a shifted principal point: M_cam_from_uv has the
    perspective term M_21 (as 278 official scenes do); the reader recovers K and the tilt."""
    from spatialforge.scene import Camera

    K = np.array([[150.0, 0, 70], [0, 150.0, 66], [0, 0, 1]])
    c, s = math.cos(0.17), math.sin(0.17)
    Rx = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    cam = Camera(150.0, 150.0, 70.0, 66.0, 160, 120)
    M = FLIP @ Rx @ FLIP @ m_cam_from_uv(cam)  # rays turned by Rx (OpenCV axes)
    assert abs(M[2, 1]) > 1e-3
    K_got, Q = camera_from_uv(M, 160, 120, "t")
    assert np.allclose(K_got, (K[0, 0], K[1, 1], K[0, 2], K[1, 2])) and np.allclose(Q, Rx)


def test_official_camera_rows():
    """Rows of the official metadata_camera_parameters.csv: ai_001_001 (standard: fx = W / (2
    tan 30 deg), centred) and ai_037_002 (tilt-shift: shift and tilt terms): every pixel's ray
    from K and Q is the official ray ``F M S p``."""
    std = np.array([[0.5773502886169104, 0, 0], [0, 0.4330127164626828, 0], [0, 0, -1.0]])
    K, Q = camera_from_uv(std, 1024, 768, "ai_001_001")
    assert np.allclose(K, (512 * math.sqrt(3), 512 * math.sqrt(3), 512, 384), atol=1e-4) and np.allclose(Q, np.eye(3))
    M = np.array([[0.57960725, 0, -0.06955287], [0, 0.43468653, 0.09273313], [-0.0, 0.00405413, -1.00390917]])
    (fx, fy, cx, cy), Q = camera_from_uv(M, 1024, 768, "ai_037_002")
    p = np.array([[0.5, 0.5, 1], [1023.5, 767.5, 1], [100.5, 600.5, 1]]).T
    S = np.array([[2 / 1024, 0, -1], [0, -2 / 768, 1], [0, 0, 1]])
    official = FLIP @ M @ S @ p
    ours = Q @ np.linalg.inv([[fx, 0, cx], [0, fy, cy], [0, 0, 1]]) @ p
    assert np.allclose(official / np.linalg.norm(official, axis=0), ours / np.linalg.norm(ours, axis=0), atol=1e-9)
    assert not np.allclose(Q, np.eye(3), atol=1e-3)  # the tilt is a real rotation


def test_skewed_camera_is_skipped(tmp_path):
    M = np.diag([math.tan(math.pi / 6), math.tan(math.pi / 6) / 2, -1.0])
    M[0, 1] = 0.05  # x depends on v: a skewed pinhole
    m = ingest("hypersim", _hand(tmp_path / "d", M=M), tmp_path / "out")
    (msg,) = m.skipped.values()
    assert "tilt-shift needs a skewed pinhole" in msg and not m.done


def test_tonemap_matches_the_official_rule():
    rgb = np.array([[[0.5, 0.5, 0.5], [100.0, 100.0, 100.0]]])
    out = tonemap(rgb, np.array([[True, False]]))  # p90 of valid brightness = 0.5 -> 0.8 after gamma
    assert out[0, 0].tolist() == [204, 204, 204] and out[0, 1].tolist() == [255, 255, 255]


def test_bad_input(tmp_path):
    # NaN distance = no geometry: invalid (0), not a crash; infinite distance skips the frame
    nan = _hand(tmp_path / "a", dist=float("nan"))
    ingest("hypersim", nan, tmp_path / "oa")
    (sc,) = ingested_scenes(tmp_path / "oa").values()
    assert sc.load_depth()[1, 3] == 0 and np.isfinite(sc.load_depth()).all()
    m = ingest("hypersim", _hand(tmp_path / "b", dist=float("inf")), tmp_path / "ob")
    assert "infinite or negative distances (first at row 1, col 3" in next(iter(m.skipped.values()))
    # a zero-size box is dropped with its reason; the frame has no other object: skipped
    m = ingest("hypersim", _hand(tmp_path / "c", extents=(50.0, 0.0, 40.0)), tmp_path / "oc")
    (msg,) = m.skipped.values()
    assert "no usable objects" in msg and "3: size must be positive" in msg
    # missing members
    d = _hand(tmp_path / "e")
    (d / "images/scene_cam_00_geometry_hdf5/frame.0000.depth_meters.hdf5").unlink()
    m = ingest("hypersim", d, tmp_path / "oe")
    assert "missing frame.0000.depth_meters.hdf5" in m.skipped["hypersim-ai_007_003-cam_00.0000"]
    d = _hand(tmp_path / "f")
    (d / "_detail/metadata_scene.csv").unlink()
    m = ingest("hypersim", d, tmp_path / "of")
    assert "missing _detail/metadata_scene.csv" in m.skipped["hypersim-ai_007_003-scene"]
    # a scene missing from the camera CSV is recorded, not guessed; an unlabelled instance is dropped
    d = _hand(tmp_path / "h", M=np.eye(3))
    (tmp_path / "h" / "metadata_camera_parameters.csv").write_text(
        (tmp_path / "h" / "metadata_camera_parameters.csv").read_text().replace("ai_007_003", "ai_001_001"))
    m = ingest("hypersim", d, tmp_path / "oh")
    assert "not in metadata_camera_parameters.csv" in m.skipped["hypersim-ai_007_003-scene"]
    d = _hand(tmp_path / "i")
    write_h5(d / "images/scene_cam_00_geometry_hdf5/frame.0000.semantic.hdf5", np.zeros((2, 4), np.int16))
    m = ingest("hypersim", d, tmp_path / "oi")
    assert "3: unknown category" in next(iter(m.skipped.values()))
    # NaN camera pose
    d = _hand(tmp_path / "g")
    write_h5(d / "_detail/cam_00/camera_keyframe_positions.hdf5", [[np.nan, 0.0, 0.0]])
    m = ingest("hypersim", d, tmp_path / "og")
    assert "camera position is not finite" in next(iter(m.skipped.values()))


def test_world_heading_and_units_do_not_leak(samples, tmp_path):
    """Another heading/origin of the Hypersim world gives the same scenes."""
    write_hypersim(samples[:1], tmp_path / "a", heading=0.0, origin=(0.0, 0.0, 0.0))
    write_hypersim(samples[:1], tmp_path / "b", heading=2.5, origin=(-300.0, 80.0, 5.0))
    ingest("hypersim", tmp_path / "a", tmp_path / "oa")
    ingest("hypersim", tmp_path / "b", tmp_path / "ob")
    (a,), (b,) = ingested_scenes(tmp_path / "oa").values(), ingested_scenes(tmp_path / "ob").values()
    for x, y in zip(a.objects, b.objects):
        assert_same_box(x.box3d, y.box3d)
