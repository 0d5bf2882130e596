"""Synthetic scene source: catalog, layouts, rendering, exact ground truth, writing, CLI."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from spatialforge.datasets.pipeline import check_masks
from spatialforge.files import read_depth, read_image, read_instance_mask
from spatialforge.scene import Box3D, Scene
from spatialforge.sources.synthetic import (CATEGORIES, COLORS, footprints_overlap, render_synthetic,
                                            sample_layout, write_scenes)
from spatialforge.sources.synthetic.catalog import FLOOR_CATEGORIES, SURFACE_CATEGORIES
from spatialforge.sources.synthetic.layout import CameraRig, Layout, PlacedObject, Room, footprint
from spatialforge.sources.synthetic.meshes import object_parts

SIZE = (160, 120)
SEED = 3


@pytest.fixture(scope="module")
def samples():
    return [render_synthetic(SEED, i, SIZE) for i in range(4)]


@pytest.fixture(scope="module")
def layouts():
    """Many layouts without rendering: cheap statistics over placement rules."""
    return [sample_layout(np.random.default_rng([11, i]), 0.75) for i in range(150)]


def _pixels_world(scene: Scene, depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    cam = scene.camera
    return cam.cam_to_world(cam.unproject(np.stack([cols + 0.5, rows + 0.5], 1), depth[rows, cols]))


# --------------------------------------------------------------------------- catalog and meshes
def test_catalog_has_enough_categories_with_realistic_sizes():
    assert len(CATEGORIES) >= 15
    assert len(COLORS) >= 6
    for cat in CATEGORIES.values():
        for lo, hi in (cat.w, cat.l, cat.h):
            assert 0.01 <= lo <= hi <= 2.3, cat.name
        assert set(cat.colors) <= set(COLORS)
    assert 0.6 <= CATEGORIES["table"].h[0] and CATEGORIES["table"].h[1] <= 0.8
    assert CATEGORIES["mug"].h[1] <= 0.15 and CATEGORIES["bed"].l[0] >= 1.8
    for name in ("chair", "sofa", "monitor", "bed", "cabinet", "shelf"):
        assert CATEGORIES[name].has_front, name
    for name in ("ball", "bottle", "mug", "table", "vase"):
        assert not CATEGORIES[name].has_front, name
    rng = np.random.default_rng(0)
    for cat in CATEGORIES.values():
        w, l, h = cat.sample_size(rng)
        assert cat.w[0] <= w <= cat.w[1] and cat.h[0] <= h <= cat.h[1] or cat.shape == "sphere"
        if cat.shape != "box":
            assert l == w


@pytest.mark.parametrize("name", sorted(CATEGORIES))
def test_meshes_fit_their_box_exactly(name):
    size = CATEGORIES[name].sample_size(np.random.default_rng(1))
    parts = object_parts(name, size, CATEGORIES[name].colors[0], np.random.default_rng(2))
    v = np.concatenate([p.vertices for p in parts])
    half = np.array(size) / 2
    np.testing.assert_allclose(v.min(0), -half, atol=1e-12)
    np.testing.assert_allclose(v.max(0), half, atol=1e-12)


# --------------------------------------------------------------------------- layouts
def test_camera_rig_frames():
    level = CameraRig(1.5, 0.0, 0.0, math.radians(60), 0.75)
    np.testing.assert_allclose(level.rotation(), np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]]), atol=1e-12)
    rig = CameraRig(1.5, math.radians(20), math.radians(4), math.radians(60), 0.75)
    R = rig.rotation()
    assert abs(R[1, 0]) < 1e-12  # camera right has no forward component: world x is it made level
    assert R[2, 2] == pytest.approx(-math.sin(math.radians(20)) * math.cos(math.radians(4)))  # looks down
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)


def test_footprint_overlap_test():
    a = footprint((0, 0), 1.0, 1.0, 0.0)
    others = np.stack([footprint((0.9, 0), 1.0, 1.0, 0.0), footprint((1.2, 0), 1.0, 1.0, 0.0),
                       footprint((1.3, 0.0), 1.0, 1.0, math.pi / 4), footprint((1.05, 0), 1.0, 1.0, 0.0)])
    # third: a diamond reaching x = 1.3 - 0.707 = 0.59 < 0.5 + margin? no: 0.59 > 0.5, separated
    assert footprints_overlap(a, others).tolist() == [True, False, False, False]
    assert footprints_overlap(a, others, margin=0.1).tolist() == [True, False, True, True]


def test_layouts_follow_placement_rules(layouts):
    supported = 0
    for lay in layouts:
        assert 1 <= len(lay.objects) <= 12
        cam_depths = [lay.rig.depth_of(o.box3d.corners()).min() for o in lay.objects]
        assert min(cam_depths) >= 0.35
        floor = [o for o in lay.objects if o.support is None]
        for o in floor:
            assert o.category in FLOOR_CATEGORIES
            assert o.box3d.center[2] - o.box3d.height / 2 == pytest.approx(lay.room.floor_z, abs=1e-12)
        # no two floor footprints intersect: points filling one never fall in another's box
        for i, a in enumerate(floor):
            uv = np.random.default_rng(i).uniform(-0.5, 0.5, (400, 2)) * [a.size[0], a.size[1]]
            local = np.concatenate([uv, np.full((400, 1), 0.0)], 1)
            pts = a.box3d.center + local[:, [0, 1, 2]] @ a.box3d.axes()
            pts[:, 2] = lay.room.floor_z + 0.01
            for b in floor[i + 1:]:
                assert not b.box3d.contains(pts).any(), (a.category, b.category)
        for o in lay.objects:
            if o.support is None:
                continue
            supported += 1
            s = lay.objects[o.support]
            assert o.category in SURFACE_CATEGORIES and s.support is None and CATEGORIES[s.category].supports
            assert o.box3d.center[2] - o.box3d.height / 2 == pytest.approx(s.top, abs=1e-12)
            corners = o.box3d.corners()
            assert s.box3d.contains(np.c_[corners[:, :2], np.full(8, s.box3d.center[2])]).all()
        pairs = {(o.category, o.color) for o in lay.objects}
        assert len(pairs) >= len(lay.objects) - 2  # colours are spread within a category
    assert supported > 30


# --------------------------------------------------------------------------- rendered ground truth
def test_sample_record_and_arrays(samples):
    s = samples[0]
    W, H = SIZE
    sc = s.scene
    assert sc.id == f"synthetic-{SEED}-00000" and sc.source == "synthetic"
    assert sc.image_path == f"images/{sc.id}.png" and sc.depth_path == f"depth/{sc.id}.npy"
    assert sc.metadata["instance_mask_path"] == f"masks/{sc.id}.png"
    assert s.rgb.shape == (H, W, 3) and s.rgb.dtype == np.uint8
    assert s.depth.shape == (H, W) and s.depth.dtype == np.float32
    assert s.instance_ids.shape == (H, W) and s.instance_ids.dtype == np.int32
    assert (sc.camera.width, sc.camera.height) == SIZE
    hfov = math.degrees(2 * math.atan(W / 2 / sc.camera.fx))
    assert 50 <= hfov <= 90 and 1.0 <= sc.metadata["camera_height"] <= 1.8
    assert 5 <= sc.metadata["pitch_deg"] <= 35 and abs(sc.metadata["roll_deg"]) <= 5
    assert Scene.from_json(sc.to_json()) == sc
    assert s.rgb.std() > 20  # shaded, not a flat fill


def test_objects_ground_truth_matches_pixels(samples):
    for s in samples:
        sc, ids, depth = s.scene, s.instance_ids, s.depth
        assert [o.id for o in sc.objects] == list(range(len(sc.objects)))
        assert sum((ids == o.id).sum() >= 50 / 16 for o in sc.objects) >= 3
        assert set(np.unique(ids)) <= {-1, *range(len(sc.objects))}
        for o in sc.objects:
            assert o.provenance == "ground_truth" and o.category in o.references[0]
            assert o.references[0] == f"{o.attributes['color']} {o.category}"
            assert 0.0 <= o.occlusion <= 1.0 and 0.0 <= o.truncation <= 1.0
            assert (o.front is not None) == CATEGORIES[o.category].has_front
            if o.front is not None:
                assert o.front[2] == 0.0 and math.hypot(*o.front) == pytest.approx(1.0)
                assert abs(math.sin(math.atan2(-o.front[0], o.front[1]) - o.box3d.yaw)) < 1e-9
            mask = ids == o.id
            if not mask.any():
                assert o.box2d is None
                if o.mask is None:  # thinner than a pixel, yet neither hidden nor out of frame
                    assert max(o.occlusion, o.truncation) < 1.0 and o.box3d.width < 0.2
                else:  # hidden or out of frame: an empty mask, which the pipeline's mask check accepts
                    assert o.mask.area == 0 and max(o.occlusion, o.truncation) == 1.0
                    check_masks(sc)
                continue
            np.testing.assert_array_equal(o.mask.decode(), mask)
            rows, cols = np.nonzero(mask)
            assert o.box2d == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
            # every visible pixel's depth lands on (or within 1 cm of) the object's GT box
            assert o.box3d.contains(_pixels_world(sc, depth, mask), margin=0.01).all(), o.category
            # ... and the mask lies inside the projected GT box
            uv = sc.camera.project(sc.camera.world_to_cam(o.box3d.corners()))
            assert cols.min() + 0.5 >= uv[:, 0].min() and cols.max() + 0.5 <= uv[:, 0].max()
            assert rows.min() + 0.5 >= uv[:, 1].min() and rows.max() + 0.5 <= uv[:, 1].max()


def test_floor_pixels_lie_on_the_floor(samples):
    for s in samples:
        sc = s.scene
        room = sc.metadata["room"]
        pts = _pixels_world(sc, s.depth, (s.instance_ids == -1) & (s.depth > 0))
        assert pts[:, 2].min() >= sc.metadata["floor_z"] - 0.003
        on_floor = (pts[:, 0] > room["xmin"] + 0.02) & (pts[:, 0] < room["xmax"] - 0.02) \
            & (pts[:, 1] < room["ymax"] - 0.02)
        assert on_floor.sum() > 1000
        np.testing.assert_allclose(pts[on_floor, 2], -sc.metadata["camera_height"], atol=0.003)
        assert (s.depth[s.instance_ids >= 0] > 0).all()


def test_same_seed_same_arrays_and_scene():
    a, b = render_synthetic(3, 1, SIZE), render_synthetic(3, 1, SIZE)
    assert a.scene == b.scene
    assert (a.rgb == b.rgb).all() and (a.depth == b.depth).all() and (a.instance_ids == b.instance_ids).all()
    assert render_synthetic(4, 1, SIZE).scene != a.scene


def test_occlusion_is_measured():
    occluded = [o.occlusion for i in range(8) for o in render_synthetic(11, i, SIZE).scene.objects]
    assert max(occluded) > 0.2 and min(occluded) == 0.0


def test_same_3d_scene_at_every_resolution(samples):
    big = render_synthetic(SEED, 1, (320, 240)).scene
    small = samples[1].scene
    assert [o.box3d for o in big.objects] == [o.box3d for o in small.objects]
    assert big.camera.R_world_cam == small.camera.R_world_cam
    assert big.camera.fx == pytest.approx(2 * small.camera.fx)


# --------------------------------------------------------------------------- constructed occlusion
def _constructed(max_side: int | None = None, monkeypatch=None):
    from spatialforge.sources.synthetic import generate

    if max_side is not None:
        monkeypatch.setattr(generate, "MAX_SILHOUETTE_SIDE", max_side)
    rig = CameraRig(1.5, math.radians(20), 0.0, math.radians(60), 0.75)
    room = Room(-12.0, 12.0, -3.0, 12.0, -1.5, 2.8, (), ((200, 200, 196), (172, 172, 168)), (230, 230, 220))
    objs = (
        PlacedObject(0, "box", "red", (0.5, 0.5, 0.5), (0.0, 4.0, -1.25), 0.0),
        PlacedObject(1, "box", "blue", (0.5, 0.5, 1.0), (0.3, 2.5, -1.0), 0.0),
        PlacedObject(2, "box", "green", (0.6, 0.6, 0.6), (-1.8, 3.0, -1.2), 0.3),
    )
    return generate.render_layout(Layout(rig, room, objs, 0.5, 1.0, 7), SIZE, "constructed")


def _hull_mask(scene: Scene, box: Box3D, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pixel centres (xs, ys grid) inside the convex hull of the box's projected corners."""
    from scipy.spatial import Delaunay

    uv = scene.camera.project(scene.camera.world_to_cam(box.corners()))
    gx, gy = np.meshgrid(xs + 0.5, ys + 0.5)
    return Delaunay(uv).find_simplex(np.stack([gx.ravel(), gy.ravel()], 1)).reshape(gx.shape) >= 0


def test_constructed_occlusion_and_truncation():
    s = _constructed()
    sc, ids = s.scene, s.instance_ids
    W, H = SIZE
    back, front, side = sc.objects
    assert front.occlusion == 0.0 and front.truncation == 0.0
    assert 0.05 < back.occlusion < 0.95 and back.truncation == 0.0
    assert 0.05 < side.truncation < 0.95 and side.occlusion == 0.0
    # centres of unoccluded solid boxes project onto their own masks
    for o in (front, side):
        u, v = sc.camera.project(sc.camera.world_to_cam(np.array([o.box3d.center])))[0]
        if 0 <= u < W and 0 <= v < H:
            assert ids[int(v), int(u)] == o.id
    # independent check: boxes' silhouettes are the convex hulls of their projected corners
    hull = _hull_mask(sc, back.box3d, np.arange(W), np.arange(H))
    hidden = (hull & (ids == front.id)).sum()
    assert back.occlusion == pytest.approx(hidden / (hidden + (ids == back.id).sum()), abs=0.03)
    big = _hull_mask(sc, side.box3d, np.arange(-W, 2 * W), np.arange(-H, 2 * H))
    inner = big[H:2 * H, W:2 * W].sum()
    assert side.truncation == pytest.approx(1 - inner / big.sum(), abs=0.03)


def test_scaled_silhouette_path_agrees(monkeypatch):
    exact = _constructed().scene
    scaled = _constructed(max_side=24, monkeypatch=monkeypatch).scene
    for a, b in zip(exact.objects, scaled.objects):
        assert b.occlusion == pytest.approx(a.occlusion, abs=1e-9)
        assert b.truncation == pytest.approx(a.truncation, abs=0.08)


# --------------------------------------------------------------------------- writing and CLI
def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_write_scenes_is_deterministic_and_resumes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    paths = write_scenes(a, num=2, seed=1, size=SIZE)
    write_scenes(b, num=2, seed=1, size=SIZE)
    assert [p.name for p in paths] == ["synthetic-1-00000.json", "synthetic-1-00001.json"]
    ha = _hashes(a)
    assert ha == _hashes(b)
    assert {"images/synthetic-1-00001.png", "depth/synthetic-1-00001.npy", "masks/synthetic-1-00001.png",
            "manifest.json"} <= set(ha)
    # files round-trip into the same arrays, and scene i does not depend on the batch
    sc = Scene.load(paths[1])
    direct = render_synthetic(1, 1, SIZE)
    assert sc == direct.scene
    np.testing.assert_array_equal(sc.load_image(), direct.rgb)
    np.testing.assert_array_equal(sc.load_depth(), direct.depth)
    ids = read_instance_mask(a / sc.metadata["instance_mask_path"], sc.id, (SIZE[1], SIZE[0]))
    np.testing.assert_array_equal(ids, direct.instance_ids)
    # resume: existing scenes are kept untouched, only the new one is rendered, nothing duplicated
    before = {p.name: p.stat().st_mtime_ns for p in paths}
    paths3 = write_scenes(a, num=3, seed=1, size=SIZE)
    assert len(paths3) == 3 and {p.name: p.stat().st_mtime_ns for p in paths3[:2]} == before
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["done"] == [p.stem for p in paths3] and manifest["num_skipped"] == 0
    assert len(list((a / "images").iterdir())) == 3
    # a broken scene JSON is re-rendered to the same bytes
    paths3[0].write_text("{broken")
    write_scenes(a, num=3, seed=1, size=SIZE)
    assert _hashes(a)[paths3[0].name] == ha[paths3[0].name]


def test_cli_scenes(tmp_path):
    from typer.testing import CliRunner

    from spatialforge.cli import app

    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["scenes", "--num", "2", "--seed", "1", "--out", str(out), "--size", "160x120"])
    assert result.exit_code == 0, result.output
    scenes = [Scene.load(p) for p in sorted(out.glob("synthetic-*.json"))]
    assert [s.id for s in scenes] == ["synthetic-1-00000", "synthetic-1-00001"]
    assert read_image(out / scenes[0].image_path).shape == (120, 160, 3)
    assert read_depth(out / scenes[0].depth_path).dtype == np.float32
    bad = CliRunner().invoke(app, ["scenes", "--num", "1", "--out", str(out), "--size", "160by120"])
    assert bad.exit_code != 0 and "WIDTHxHEIGHT" in bad.output


def test_bad_arguments_are_reported():
    with pytest.raises(ValueError, match="seed"):
        render_synthetic(-1, 0, SIZE)
    with pytest.raises(ValueError, match="size"):
        render_synthetic(0, 0, (8, 8))


def test_objects_record_the_shape_they_are_rendered_with(samples):
    """Round categories are written as cylinders (spheres: the ball), and their rendered surface
    lies inside the disc their footprint says (a box corner would stick out by 41 %)."""
    from spatialforge.sources.synthetic.catalog import scene_shape

    checked = 0
    for s in samples:
        sc = s.scene
        for o in sc.objects:
            assert o.shape == scene_shape(o.category)
            mask = s.instance_ids == o.id
            if o.shape not in ("cylinder", "sphere") or mask.sum() < 20:
                continue
            pts = _pixels_world(sc, s.depth, mask)
            r = np.hypot(pts[:, 0] - o.box3d.center[0], pts[:, 1] - o.box3d.center[1])
            assert r.max() <= o.box3d.size[0] / 2 + 0.005, (o.category, r.max(), o.box3d.size)
            checked += 1
    assert checked >= 1
