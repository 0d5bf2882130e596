import base64
import io
import re

import numpy as np
from PIL import Image

from spatialforge import Box3D, Camera, Object3D, Scene
from spatialforge.datasets import generate_dataset
from spatialforge.viz.show import box3d_edges_2d, build_show_page, draw_record, pick_records


def test_box_edges_project_and_clip_behind_camera():
    cam = Camera(100.0, 100.0, 50.0, 40.0, 100, 80)
    scene = Scene("s", "x.png", cam)
    front = Box3D((0.0, 3.0, 0.0), (1.0, 1.0, 1.0))  # world y = camera z: 3 m ahead
    segs = box3d_edges_2d(scene, front)
    assert len(segs) == 12
    uv = np.array([p for s in segs for p in s])
    assert np.allclose(uv.mean(0), (50.0, 40.0), atol=3)  # centred
    straddling = Box3D((0.0, 0.0, 0.0), (1.0, 1.0, 4.0))  # from 2 m behind to 2 m ahead
    segs = box3d_edges_2d(scene, straddling)
    assert 0 < len(segs) <= 12 and all(np.isfinite(np.array(s)).all() for s in segs)
    assert box3d_edges_2d(scene, Box3D((0.0, -3.0, 0.0), (1.0, 1.0, 1.0))) == []  # fully behind


def test_draw_record_marks_object_boxes_in_each_view():
    cam = Camera(150.0, 150.0, 100.0, 75.0, 200, 150)
    obj = Object3D(1, "chair", Box3D((-0.6, 2.5, -0.3), (0.5, 0.9, 0.5)), box2d=(10.0, 30.0, 70.0, 120.0))
    scene = Scene("s", "x.png", cam, (obj,))
    blank = Image.new("RGB", (200, 150))
    a = np.asarray(draw_record(blank, scene, [1]))
    b = np.asarray(draw_record(blank, scene.mirrored(), [1]))
    assert a[:, :100].any() and not a[:, 130:].any()  # the chair is on the left ...
    assert b[:, 100:].any() and not b[:, :70].any()  # ... and on the right in the mirrored view
    assert not np.asarray(draw_record(blank, scene, [99])).any()  # unknown ids are ignored


def test_pick_records_round_robin_with_partners():
    rows = [{"id": f"{t}{k}{v[0]}", "pair_id": f"{t}{k}", "view": v, "task": t}
            for t in "abc" for k in range(5) for v in ("original", "mirrored")]
    picked = pick_records(rows, 6)
    assert [m["task"] for m, _ in picked] == list("abcabc")
    assert all(p is not None and p["pair_id"] == m["pair_id"] and p["view"] == "mirrored" for m, p in picked)


def test_show_page_is_self_contained(tmp_path, scene_folder, stub):
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, mirror=True, generator=stub)
    page = build_show_page(out, num=5)
    assert page == out / "show.html"
    text = page.read_text()
    assert text.count('class="card"') == 5 and text.count('class="view"') == 10
    assert "http" not in text.replace("http-equiv", "")  # nothing fetched from elsewhere
    assert "left or the right?" in text and "relative_direction" in text and "L2" in text
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(imgs) == 10
    im = Image.open(io.BytesIO(base64.b64decode(imgs[0])))
    assert im.size == (64, 48)


def test_draw_record_marks_query_pixels():
    scene = Scene("s", "x.png", Camera(150.0, 150.0, 100.0, 75.0, 200, 150))
    a = np.asarray(draw_record(Image.new("RGB", (200, 150)), scene, [], pixels=[[20, 30]]))
    assert (a[30, 20] == (255, 0, 160)).all() and not a[:, 100:].any()
