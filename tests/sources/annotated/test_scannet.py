"""ScanNet reader: round trip of synthetic scenes (unaligned world + axisAlignment, camera ->
world poses, AABB boxes from mesh vertices), a hand-written fixture, bad input."""

from __future__ import annotations

import json
import math

import numpy as np

from spatialforge.sources.annotated import ingest
from spatialforge.sources.annotated.scannet import resample_depth
from tests.sources.annotated.helpers import assert_same_camera, ingested_scenes
from tests.sources.annotated.writers import _mat_txt, _png, depth_mm, scannet_expected, write_scannet


def test_round_trip(samples, tmp_path):
    names = write_scannet(samples, tmp_path / "d")
    m = ingest("scannet", tmp_path / "d", tmp_path / "out")
    scenes = ingested_scenes(tmp_path / "out")
    assert not m.skipped and len(scenes) == len(samples)
    for smp, name in zip(samples, names):
        sc = scenes[f"scannet-{name}-0"]
        assert_same_camera(sc.camera, smp.scene.camera)
        keys = sc.metadata["object_keys"]
        assert "99" not in keys  # the floor is not an object
        for got, key in zip(sc.objects, keys):
            o = smp.scene.object(int(key))
            center, size, yaw = scannet_expected(o.box3d, 0.3, np.array([2.0, 1.0, 1.3]))
            assert np.allclose(got.box3d.center, center, atol=1e-4) and np.allclose(got.box3d.size, size, atol=1e-4)
            d = (got.box3d.yaw - yaw + math.pi / 2) % math.pi - math.pi / 2
            assert abs(d) < 1e-4 and got.category == o.category
        seen = {int(k) for k in keys}
        assert {o.id for o in smp.scene.objects if o.occlusion == 0 and o.truncation == 0 and o.mask} <= seen
        assert np.array_equal(sc.load_depth(), depth_mm(smp.depth).astype(np.float32) / 1000)


def _hand(root, pose=None):
    """A level camera at (1, 2, 1.5) of the aligned world looking along +y (so ours = aligned,
    shifted); axisAlignment turns the stored world by 90 deg: aligned = Rz(90) world.
    A chair's four vertices span x 0.2..0.6, y 4.0..4.5, z 0..0.9 in the aligned world."""
    d = root / "scene0007_00"
    for sub in ("color", "depth", "pose", "intrinsic"):
        (d / sub).mkdir(parents=True)
    A = np.array([[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])  # Rz(90 deg)
    pts_al = np.array([[0.2, 4.0, 0.0], [0.6, 4.5, 0.9], [0.2, 4.5, 0.4], [0.6, 4.0, 0.2]])
    pts_world = pts_al @ A[:3, :3]  # inverse rotation: world = A^T aligned
    import trimesh

    trimesh.PointCloud(pts_world).export(d / "scene0007_00_vh_clean_2.ply")
    (d / "scene0007_00_vh_clean_2.0.010000.segs.json").write_text(json.dumps({"segIndices": [5, 5, 5, 5]}))
    (d / "scene0007_00.aggregation.json").write_text(json.dumps(
        {"segGroups": [{"id": 0, "objectId": 0, "label": "chair", "segments": [5]}]}))
    (d / "scene0007_00.txt").write_text("sceneType = Bedroom\naxisAlignment = " + " ".join(map(str, A.reshape(-1))) + "\n")
    # camera -> aligned world: x -> x, z (optical) -> +y, y (down) -> -z; centre (1, 2, 1.5)
    T_al = np.array([[1, 0, 0, 1.0], [0, 0, 1, 2.0], [0, -1, 0, 1.5], [0, 0, 0, 1]])
    stored = np.linalg.inv(A) @ T_al  # camera -> world as ScanNet stores it
    K = np.eye(4)
    K[:3, :3] = [[100, 0, 64], [0, 100, 48], [0, 0, 1]]
    (d / "intrinsic" / "intrinsic_color.txt").write_text(_mat_txt(K))
    (d / "color" / "0.jpg").write_bytes(_png(np.zeros((96, 128, 3), np.uint8)))
    (d / "pose" / "0.txt").write_text(pose if pose is not None else _mat_txt(stored))
    return d


def test_hand_written_fixture(tmp_path):
    ingest("scannet", _hand(tmp_path / "d"), tmp_path / "out")
    (sc,) = ingested_scenes(tmp_path / "out").values()
    (o,) = sc.objects
    assert np.allclose(sc.camera.R, [[1, 0, 0], [0, 0, 1], [0, -1, 0]])
    # box centre (0.4, 4.25, 0.45) aligned, minus the camera centre (1, 2, 1.5)
    assert np.allclose(o.box3d.center, (-0.6, 2.25, -1.05))
    assert np.allclose(o.box3d.size, (0.4, 0.9, 0.5)) and abs(o.box3d.yaw) < 1e-9
    assert sc.metadata["box2d_projected"] == [0] and sc.depth_path is None


def test_invalid_pose_is_skipped(tmp_path):
    m = ingest("scannet", _hand(tmp_path / "d", pose="-inf -inf -inf -inf\n" * 4), tmp_path / "out")
    (msg,) = m.skipped.values()
    assert not m.done and "0.txt is not finite" in msg


def test_missing_annotation_is_recorded(tmp_path):
    d = _hand(tmp_path / "d")
    (d / "scene0007_00.aggregation.json").unlink()
    m = ingest("scannet", d, tmp_path / "out")
    assert "missing scene0007_00.aggregation.json" in m.skipped["scannet-scene0007_00-scan"]


def test_depth_resampled_through_both_intrinsics():
    # depth camera with half the focal length and size: colour pixel (c, r) sees depth pixel (c // 2, r // 2)
    depth = np.arange(12, dtype=np.float32).reshape(3, 4)
    K_d = np.array([[1.0, 0, 2], [0, 1.0, 1.5], [0, 0, 1]])
    K_c = np.array([[2.0, 0, 4], [0, 2.0, 3], [0, 0, 1]])
    out = resample_depth(depth, K_d, K_c, (6, 8))
    assert np.array_equal(out, np.repeat(np.repeat(depth, 2, 0), 2, 1))
    wide = resample_depth(depth, K_d, np.array([[1.0, 0, 5], [0, 1.0, 3], [0, 0, 1]]), (6, 10))
    assert (wide[:, 0] == 0).all() and (wide[:, -1] == 0).all()  # outside the depth image: invalid


def test_damaged_mesh_is_recorded_with_its_reason(tmp_path):
    """Garbage and truncated PLY files are recorded skips naming the file, not crashes."""
    for kind, damage in (("garbage", lambda b: b"hello, not a ply"), ("truncated", lambda b: b[: len(b) // 2])):
        d = _hand(tmp_path / kind)
        ply = d / "scene0007_00_vh_clean_2.ply"
        ply.write_bytes(damage(ply.read_bytes()))
        m = ingest("scannet", d, tmp_path / f"out-{kind}")
        assert "scene0007_00_vh_clean_2.ply: unreadable mesh" in m.skipped["scannet-scene0007_00-scan"], kind
