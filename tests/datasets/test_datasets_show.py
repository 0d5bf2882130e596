import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from spatialforge import Box3D, Camera, Object3D, Scene
from spatialforge.datasets import generate_dataset
from spatialforge.errors import ConfigError, DataError
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


def _page_images(text: str) -> list[np.ndarray]:
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(b))).convert("RGB"))
            for b in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


def test_show_draws_boxes_for_a_dataset_written_to_a_relative_out(tmp_path, scene_folder, stub, monkeypatch):
    # the `make demo` layout: a relative --out with the scenes copied under it
    monkeypatch.chdir(tmp_path)
    generate_dataset("rel/ds", source="folder", scenes_dir=scene_folder, qa_per_scene=4, mirror=True, generator=stub)
    page = build_show_page("rel/ds", num=2)
    plain = [np.asarray(Image.open(scene_folder / "images" / f"scene_00{i}.png").convert("RGB")) for i in range(3)]
    drawn = _page_images(page.read_text())
    assert len(drawn) == 4
    for img in drawn:  # every image differs from both raw views: boxes were drawn on it
        assert not any((img == p).all() or (img == p[:, ::-1]).all() for p in plain)
        assert (img == (230, 25, 75)).all(-1).sum() > 20  # the first box colour (PALETTE[0])


def test_show_fails_loudly_when_a_scene_does_not_load(tmp_path, scene_folder, stub):
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, mirror=True, generator=stub)
    for p in (out / "scenes").glob("scene_*.json"):
        p.unlink()
    with pytest.raises(DataError, match=r"shard-00000.parquet row \d+ \(record '.*'\): cannot draw its boxes: "
                                        r".*scene_00\d.json: scene file not found"):
        build_show_page(out, num=2)


def test_show_bad_folders_shards_and_out(tmp_path, scene_folder, stub):
    with pytest.raises(DataError, match="nope: not a folder"):
        build_show_page(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no records \(data/shard-\*.parquet\)"):
        build_show_page(tmp_path / "empty")
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, generator=stub)
    with pytest.raises(ConfigError, match=r"--out .*ds is a folder"):
        build_show_page(out, out=out)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"--out .*file/show.html: cannot write the page"):
        build_show_page(out, out=tmp_path / "file" / "show.html")
    shard = out / "data" / "shard-00000.parquet"
    shard.write_bytes(shard.read_bytes()[:500])
    with pytest.raises(DataError, match=r"shard-00000.parquet: unreadable shard"):
        build_show_page(out)


def test_mcq_options_are_printed_once(tmp_path, scene_folder, stub):
    from dataclasses import replace

    def mcq(scene, **kw):  # questions that spell out their options, as tasks/formats.py writes them
        res = stub(scene, **kw)
        recs = [replace(r, question="Which side?\nA. left\nB. right\nC. above\nD. below\nSelect one option.",
                        choices=("left", "right", "above", "below")) if r.format == "mcq" else r
                for r in res.records]
        return type(res)(records=recs, skipped=res.skipped)

    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, generator=mcq)
    text = build_show_page(out, num=20).read_text()
    assert text.count("A. left") >= 1 and "<li>left</li>" not in text and "<ol" not in text
    assert "white-space:pre-line" in text  # one option per line, as in the question
