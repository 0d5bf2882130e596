import math

import numpy as np
import pytest

from geometry_raycast import build_scene
from spatialforge import Box3D, MaskRLE, SceneError
from spatialforge.geometry.estimate import GeometryConfig, estimate_scene
from spatialforge.geometry.gravity import gravity_angle_deg
from spatialforge.files import write_depth, write_instance_mask


def _same_box(est: Box3D, gt: Box3D, centre_tol=0.03, size_tol=0.05, yaw_tol_deg=2.0):
    """Compare modulo the quarter-turn description (yaw, w, l) == (yaw + 90 deg, l, w)."""
    np.testing.assert_allclose(est.center, gt.center, atol=centre_tol)
    w, h, l = est.size
    d = (est.yaw - gt.yaw) % math.pi
    if math.pi / 4 <= d < 3 * math.pi / 4:
        w, l, d = l, w, d - math.pi / 2
    np.testing.assert_allclose([w, h, l], gt.size, rtol=size_tol)
    assert min(d % math.pi, math.pi - d % math.pi) < math.radians(yaw_tol_deg)


@pytest.mark.parametrize("trusted", [False, True])
def test_boxes_and_gravity_recovered_for_a_pitched_rolled_camera(hand_scene, trusted):
    scene, depth, _ = hand_scene
    result = estimate_scene(scene, depth=depth, use_camera_gravity=trusted)
    assert result.dropped == {}
    assert result.gravity_source == ("camera" if trusted else "floor")
    assert gravity_angle_deg(result.scene.camera.R, scene.camera.R) < 1.0
    assert 0.0 <= result.confidence <= 1.0
    assert [o.id for o in result.scene.objects] == [o.id for o in scene.objects]
    for est, gt in zip(result.scene.objects, scene.objects):
        assert est.provenance == "estimated" and 0.0 <= est.confidence <= 1.0
        _same_box(est.box3d, gt.box3d)


def test_round_object_seen_from_one_side_is_completed():
    """A tall cylinder (its top above the camera) shows only its front half."""
    cyl = (0.3, 3.0, 0.25, -1.5, 0.4)
    scene, depth, _ = build_scene([], pitch=0.15, roll=0.0, cylinders=(cyl,))
    on = estimate_scene(scene, depth=depth).scene.objects[0].box3d
    off = estimate_scene(scene, depth=depth, config=GeometryConfig(completion=False)).scene.objects[0].box3d
    assert min(off.size[0], off.size[2]) < 0.7 * 0.5  # the back half is missing
    np.testing.assert_allclose([on.size[0], on.size[2]], [0.5, 0.5], rtol=0.08)
    np.testing.assert_allclose(on.center[:2], cyl[:2], atol=0.03)


def test_hidden_bottom_extends_to_the_floor():
    front = Box3D((0.0, 2.5, -1.5 + 0.5), (1.6, 1.0, 0.4), 0.0)  # a wall-like box in front ...
    behind = Box3D((0.0, 3.5, -1.5 + 0.75), (0.6, 1.5, 0.5), 0.2)  # ... hides the bottom of this one
    scene, depth, _ = build_scene([front, behind], pitch=0.25, roll=0.0)
    est = estimate_scene(scene, depth=depth).scene.objects[1].box3d
    assert est.center[2] - est.size[1] / 2 == pytest.approx(-1.5, abs=0.02)
    assert est.size[1] == pytest.approx(1.5, rel=0.03)
    short = estimate_scene(scene, depth=depth, config=GeometryConfig(extend_hidden_bottoms=False))
    assert short.scene.objects[1].box3d.size[1] < 1.2


def test_partially_invalid_depth_just_works(hand_scene):
    scene, depth, _ = hand_scene
    bad = depth.copy()
    bad[10:40, 10:60] = np.nan
    bad[100:120, 200:260] = np.inf
    bad[150:170, 0:40] = 0.0
    bad[::17, ::13] = -1.0
    result = estimate_scene(scene, depth=bad)
    assert result.dropped == {}
    for est, gt in zip(result.scene.objects, scene.objects):
        _same_box(est.box3d, gt.box3d, centre_tol=0.05, size_tol=0.1, yaw_tol_deg=5.0)


def test_bad_objects_are_dropped_with_reasons(hand_scene):
    scene, depth, _ = hand_scene
    H, W = depth.shape
    objs = list(scene.objects)
    empty = MaskRLE.encode(np.zeros((H, W), bool))
    tiny_mask = np.zeros((H, W), bool)
    tiny_mask[5:7, 5:11] = True
    no_depth = objs[2].mask.decode()
    bad_depth = depth.copy()
    bad_depth[no_depth] = np.nan
    from dataclasses import replace

    objs = [
        objs[0],
        replace(objs[1], mask=empty),
        replace(objs[2], mask=MaskRLE.encode(tiny_mask)),
        replace(objs[2], id=7),  # all its pixels get invalid depth below
        replace(objs[0], id=8),
    ]
    object.__setattr__(objs[4], "mask", MaskRLE.encode(np.ones((10, 8), bool)))  # bypasses validation
    bad_scene = replace(scene, objects=tuple(objs[:4]))
    object.__setattr__(bad_scene, "objects", tuple(objs))
    result = estimate_scene(bad_scene, depth=bad_depth)
    assert result.dropped == {
        1: "empty mask",
        2: "mask has 12 pixels (< 30)",
        7: "no valid depth under mask",
        8: f"mask 8x10 does not match image {W}x{H}",
    }
    assert [o.id for o in result.scene.objects] == [0]


def test_masks_from_the_instance_png(tmp_path, hand_scene):
    scene, depth, ids = hand_scene
    from dataclasses import replace

    write_depth(tmp_path / "depth.npy", depth)
    write_instance_mask(tmp_path / "ids.png", ids)
    no_rle = replace(scene, objects=tuple(replace(o, mask=None) for o in scene.objects),
                     metadata={"instance_mask_path": "ids.png"}, root=str(tmp_path))
    result = estimate_scene(no_rle)
    assert result.dropped == {}
    for est, gt in zip(result.scene.objects, scene.objects):
        _same_box(est.box3d, gt.box3d)
    missing = replace(no_rle, metadata={"instance_mask_path": "nope.png"})
    result = estimate_scene(missing)
    assert len(result.dropped) == 3 and all("not found" in r for r in result.dropped.values())


def test_an_empty_rle_mask_needs_no_instance_png(tmp_path, hand_scene):
    """An object the scene records as unseen (an empty RLE mask, as the synthetic writer gives
    hidden objects) is dropped for having no pixels, exactly as when its pixels come from an
    instance map without its id, and the (here missing) instance PNG is never read."""
    scene, depth, ids = hand_scene
    from dataclasses import replace

    write_depth(tmp_path / "depth.npy", depth)
    hidden = scene.objects[1].id
    empty = MaskRLE.encode(np.zeros((scene.camera.height, scene.camera.width), bool))
    no_png = replace(scene, objects=tuple(replace(o, mask=empty) if o.id == hidden else o for o in scene.objects),
                     metadata={"instance_mask_path": "nope.png"}, root=str(tmp_path))
    from_map = replace(no_png, objects=tuple(replace(o, mask=None) if o.id == hidden else o for o in scene.objects))
    result = estimate_scene(no_png)
    expected = estimate_scene(from_map, instance_ids=np.where(ids == hidden, -1, ids))
    assert list(result.dropped) == [hidden] and result.dropped == expected.dropped
    assert result.scene.to_dict() == expected.scene.to_dict()


def test_bad_scenes_raise_scene_errors_naming_the_scene(tmp_path, hand_scene):
    scene, depth, _ = hand_scene
    from dataclasses import replace

    rooted = replace(scene, root=str(tmp_path))
    with pytest.raises(SceneError, match="'hand'.*not found"):
        estimate_scene(rooted)  # depth.npy was never written
    (tmp_path / "depth.npy").write_bytes(b"not a numpy file")
    with pytest.raises(SceneError, match="'hand'.*unreadable"):
        estimate_scene(rooted)
    write_depth(tmp_path / "depth.npy", np.full(depth.shape, np.nan, np.float32))
    with pytest.raises(SceneError, match="'hand'.*no valid pixel"):
        estimate_scene(rooted)
    with pytest.raises(SceneError, match="'hand'"):
        estimate_scene(scene, depth=depth[:10])
    with pytest.raises(SceneError, match="'hand'.*no depth file"):
        estimate_scene(replace(scene, depth_path=None))


def test_no_floor_falls_back_to_a_level_camera(hand_scene):
    scene, depth, ids = hand_scene
    only_objects = np.where(ids >= 0, depth, 0.0).astype(np.float32)
    result = estimate_scene(scene, depth=only_objects)
    assert result.gravity_source == "level-fallback" and result.confidence == 0.0
    assert result.scene.metadata["geometry"]["gravity_source"] == "level-fallback"
    assert len(result.scene.objects) == 3


def test_mirrored_scene_gives_mirrored_boxes(tmp_path, hand_scene):
    scene, depth, _ = hand_scene
    from dataclasses import replace

    write_depth(tmp_path / "depth.npy", depth)
    scene = replace(scene, root=str(tmp_path))
    plain, mirrored = estimate_scene(scene), estimate_scene(scene.mirrored())  # flipped depth, masks, camera
    for a, b in zip(plain.scene.objects, mirrored.scene.objects):
        flip = a.box3d.mirrored()
        np.testing.assert_allclose(b.box3d.center, flip.center, atol=0.01)
        _same_box(b.box3d, flip, centre_tol=0.01, size_tol=0.02, yaw_tol_deg=1.0)
