"""The built-in synthetic source: determinism, exact ground truth, layout rules, resume, CLI."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from spatialforge import Scene
from spatialforge.cli import app
from spatialforge.sources.synthetic import CATEGORIES, render_synthetic, write_scenes

SIZE = (160, 120)


@pytest.fixture(scope="module")
def samples():
    return [render_synthetic(7, i, SIZE) for i in range(6)]


def _tree_hash(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def test_catalog_has_realistic_categories():
    assert len(CATEGORIES) >= 15
    for name in ("table", "chair", "sofa", "bed", "shelf", "cabinet", "lamp", "box", "mug", "bottle", "ball",
                 "monitor", "book", "backpack"):
        assert name in CATEGORIES, name
    mug, sofa = CATEGORIES["mug"], CATEGORIES["sofa"]
    assert mug.h[1] < 0.2 and sofa.w[0] > 1.0  # metric sizes in plausible ranges
    assert CATEGORIES["chair"].has_front and not CATEGORIES["ball"].has_front


def test_same_seed_same_arrays_and_scene():
    a, b = render_synthetic(3, 1, SIZE), render_synthetic(3, 1, SIZE)
    assert a.scene == b.scene
    assert (a.rgb == b.rgb).all() and (a.depth == b.depth).all() and (a.instance_ids == b.instance_ids).all()
    assert render_synthetic(4, 1, SIZE).scene != a.scene


def test_scene_contents(samples):
    for s in samples:
        sc = s.scene
        assert 3 <= len(sc.objects) <= 12
        assert s.rgb.shape == (SIZE[1], SIZE[0], 3) and s.rgb.dtype == np.uint8
        assert s.depth.dtype == np.float32 and s.depth.shape == SIZE[::-1]
        assert s.rgb.std() > 10  # lit and shaded, not a flat frame
        visible = [o for o in sc.objects if o.mask is not None and o.mask.area >= 50]
        assert len(visible) >= 3
        for o in sc.objects:
            assert 0 <= o.occlusion <= 1 and 0 <= o.truncation <= 1
            if o.front is not None:
                assert CATEGORIES[o.category].has_front


def test_depth_and_masks_agree_with_the_ground_truth_boxes(samples):
    for s in samples:
        cam = s.scene.camera
        rows, cols = np.nonzero(s.depth > 0)
        uv = np.stack([cols + 0.5, rows + 0.5], 1)
        points_world = cam.cam_to_world(cam.unproject(uv, s.depth[rows, cols]))
        ids = s.instance_ids[rows, cols]
        for o in s.scene.objects:
            sel = ids == o.id
            if o.mask is None:
                assert not sel.any()
                continue
            assert (o.mask.decode() == (s.instance_ids == o.id)).all()
            inside = o.box3d.contains(points_world[sel], margin=0.01)
            assert inside.mean() > 0.999, (s.scene.id, o.category, inside.mean())
            # the projected GT centre of a fully visible object lands in its 2D box
            if o.occlusion == 0 and o.truncation == 0:
                u, v = cam.project(cam.world_to_cam(np.array([o.box3d.center])))[0]
                x0, y0, x1, y1 = o.box2d
                assert x0 - 1 <= u <= x1 + 1 and y0 - 1 <= v <= y1 + 1
        # background pixels at floor level lie on the plane z = -camera height
        floor = (s.instance_ids[rows, cols] == -1) & (points_world[:, 2] < -0.3)
        z = points_world[floor, 2]
        assert np.median(np.abs(z - np.median(z))) < 0.01


def test_layout_rules(samples):
    for s in samples:
        objs = s.scene.objects
        floor_z = min(o.box3d.center[2] - o.box3d.size[1] / 2 for o in objs)
        tops = {o.id: o.box3d.center[2] + o.box3d.size[1] / 2 for o in objs}
        for o in objs:
            bottom = o.box3d.center[2] - o.box3d.size[1] / 2
            on_floor = abs(bottom - floor_z) < 1e-6
            on_support = any(abs(bottom - t) < 1e-6 for i, t in tops.items() if i != o.id)
            assert on_floor or on_support, (s.scene.id, o.category, bottom)
        floor_objs = [o for o in objs if abs(o.box3d.center[2] - o.box3d.size[1] / 2 - floor_z) < 1e-6]
        polys = []
        for o in floor_objs:
            c = o.box3d.corners()[:, :2]
            polys.append(c)
        # separating-axis test on footprints: no two floor objects overlap
        for i in range(len(polys)):
            for j in range(i + 1, len(polys)):
                axes = [floor_objs[k].box3d.axes()[a, :2] for k in (i, j) for a in (0, 1)]
                separated = any(
                    (polys[i] @ ax).max() <= (polys[j] @ ax).min() + 1e-6 or (polys[j] @ ax).max() <= (polys[i] @ ax).min() + 1e-6
                    for ax in axes)
                assert separated, (s.scene.id, floor_objs[i].category, floor_objs[j].category)


def test_occlusion_is_measured():
    occluded = [o.occlusion for i in range(12) for o in render_synthetic(11, i, SIZE).scene.objects]
    assert max(occluded) > 0.2 and min(occluded) == 0.0


def test_write_scenes_bytes_resume_and_manifest(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    paths = write_scenes(a, num=3, seed=5, size=SIZE)
    write_scenes(b, num=3, seed=5, size=SIZE)
    assert _tree_hash(a) == _tree_hash(b)
    scene = Scene.load(paths[0])
    assert scene.load_image().shape == (SIZE[1], SIZE[0], 3)
    assert scene.load_depth().dtype == np.float32
    # a crash after two scenes: remove the third, resume, nothing duplicated, same bytes
    paths[2].unlink()
    again = write_scenes(a, num=4, seed=5, size=SIZE)
    assert len(again) == 4 and len(list(a.glob("*.json"))) == 5  # 4 scenes + manifest
    assert _tree_hash(a)[paths[2].name] == _tree_hash(b)[paths[2].name]
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["num_done"] == 4 and len(set(manifest["done"])) == 4


def test_cli_scenes(tmp_path):
    res = CliRunner().invoke(app, ["scenes", "--num", "2", "--seed", "1", "--out", str(tmp_path), "--size", "160x120"])
    assert res.exit_code == 0, res.output
    assert len(list(tmp_path.glob("synthetic-*.json"))) == 2
    bad = CliRunner().invoke(app, ["scenes", "--num", "1", "--out", str(tmp_path), "--size", "160by120"])
    assert bad.exit_code != 0 and "WIDTHxHEIGHT" in bad.output
