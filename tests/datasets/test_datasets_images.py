"""Image bytes in shards: our PNG writer, shared per-view images, highlighted-box images, row groups."""

import gc
import io
import json
import re
from dataclasses import replace

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from spatialforge.datasets import generate_dataset, load_hf_dataset, shard_paths
from spatialforge.datasets import parquet as P
from spatialforge.datasets.parquet import encode_png, iter_rows
from spatialforge.mirror import flip_horizontal
from spatialforge.tasks.highlight import draw_highlights


@pytest.mark.parametrize("hw", [(1, 1), (7, 13), (48, 64), (3, 200)])
def test_encode_png_is_lossless_and_decodes_everywhere(hw):
    rgb = np.random.default_rng(sum(hw)).integers(0, 256, (*hw, 3), dtype=np.uint8)
    png = encode_png(rgb)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    back = np.asarray(Image.open(io.BytesIO(png)))
    assert back.dtype == np.uint8 and (back == rgb).all()
    assert encode_png(rgb) == png  # same pixels, same bytes
    assert (np.asarray(Image.open(io.BytesIO(encode_png(rgb[:, ::-1])))) == rgb[:, ::-1]).all()  # strided input


def test_encode_png_rejects_what_it_cannot_write():
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        encode_png(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="float32"):
        encode_png(np.zeros((4, 4, 3), np.float32))


def test_flip_horizontal_matches_numpy():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 9, 3), dtype=np.uint8)
    depth = np.random.default_rng(1).random((5, 9), dtype=np.float32)
    for a in (rgb, depth):
        f = flip_horizontal(a)
        assert f.flags.c_contiguous and (f == a[:, ::-1]).all()


def _highlight_gen(stub):
    """The stub generator, with every mirrored pair's first record naming a highlighted object."""

    def gen(scene, **kw):
        res = stub(scene, **kw)
        out = []
        for r in res.records:
            if r.id.startswith(f"{scene.id}-000"):
                o = scene.mirrored().object(1) if r.flipped else scene.object(1)
                box = [float(v) for v in o.box2d]
                hl = [{"object_id": 1, "color": "red", "rgb": [255, 0, 0], "box2d": box}]
                r = replace(r, question="Where is the chair highlighted by the red box?", meta={**r.meta, "highlight": hl})
            out.append(r)
        return type(res)(records=out, skipped=res.skipped)

    return gen


def test_views_share_one_image_and_highlights_get_their_own(tmp_path, scene_folder, stub):
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, mirror=True,
                     generator=_highlight_gen(stub))
    assert gc.get_freeze_count() == 0  # the run unfreezes the GC it froze
    rows = list(iter_rows(out))
    by_key: dict[tuple, set] = {}
    for r in rows:
        by_key.setdefault((r["scene_id"], r["flipped"], "highlight" in r["meta"]), set()).add(r["image"]["bytes"])
    assert all(len(v) == 1 for v in by_key.values())  # one image per scene view (and highlight)
    assert {k[2] for k in by_key} == {True, False}
    ds = load_hf_dataset(out, cache_dir=tmp_path / "hf")
    seen = 0
    for i, r in enumerate(rows):
        src = np.asarray(Image.open(scene_folder / "images" / f"{r['scene_id']}.png").convert("RGB"))
        view = src[:, ::-1] if r["flipped"] else src
        img = np.asarray(ds[i]["image"].convert("RGB"))
        if '"highlight"' not in r["meta"]:
            assert (img == view).all()
            continue
        seen += 1
        x0, y0, x1, y1 = (int(v) for v in json.loads(r["meta"])["highlight"][0]["box2d"])
        assert (img[y0, x0:x1] == (255, 0, 0)).all() and (img[y0:y1, x0] == (255, 0, 0)).all()  # the outline
        assert (img[y0 + 3:y1 - 3, x0 + 3:x1 - 3] == view[y0 + 3:y1 - 3, x0 + 3:x1 - 3]).all()  # inside untouched
        drawn = draw_highlights(view, json.loads(r["meta"])["highlight"])
        assert (img == drawn).all()
    assert seen == 6  # 3 scenes x (original + mirrored)


def test_row_groups_end_at_scenes_within_the_byte_limit(tmp_path, scene_folder, stub, monkeypatch):
    monkeypatch.setattr(P, "ROW_GROUP_BYTES", 1)  # every scene in a row group of its own
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, mirror=True, generator=stub)
    (shard,) = shard_paths(out)
    pf = pq.ParquetFile(shard)
    assert pf.num_row_groups == 3 and all(pf.metadata.row_group(g).num_rows == 8 for g in range(3))
    assert pf.schema_arrow.field("image").type.field("bytes").type == "binary"  # plain binary to readers
    for g in range(3):
        scenes = set(pf.read_row_group(g, columns=["scene_id"]).column(0).to_pylist())
        assert len(scenes) == 1
    # each view's PNG is stored once (Parquet dictionary), not once per row
    pngs = [r["image"]["bytes"] for r in iter_rows(out)]
    unique = sum(len(b) for b in set(pngs))
    assert len(set(pngs)) == 6 and unique > 30_000
    assert shard.stat().st_size < unique + 20_000 < sum(map(len, pngs)) / 2
    meta = pf.metadata.metadata
    assert b"huggingface" in meta and b"ARROW:schema" not in meta
    # a scene larger than a row group is cut; every row keeps its own view's image
    monkeypatch.setattr(P, "ROW_GROUP_BYTES", 64 << 20)
    monkeypatch.setattr(P, "ROW_GROUP_ROWS", 3)
    before = [(r["id"], r["image"]["bytes"]) for r in iter_rows(out)]
    P.write_shard(pq.read_table(shard), tmp_path / "cut.parquet")
    cut = pq.ParquetFile(tmp_path / "cut.parquet")
    assert cut.num_row_groups == 9
    assert [(r["id"], r["image"]["bytes"]) for b in P.iter_batches(tmp_path / "cut.parquet") for r in b] == before


def test_pixels_are_decoded_only_when_a_view_must_be_encoded(tmp_path, scene_folder, stub, monkeypatch):
    import spatialforge.datasets.pipeline as pipeline

    calls = []
    real = pipeline.read_image
    monkeypatch.setattr(pipeline, "read_image", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    generate_dataset(tmp_path / "plain", source="folder", scenes_dir=scene_folder, qa_per_scene=4, generator=stub)
    assert calls == []  # original views reuse the PNG files as they are
    rows = list(iter_rows(tmp_path / "plain"))
    assert rows and all(r["image"]["bytes"] == (scene_folder / "images" / f"{r['scene_id']}.png").read_bytes()
                        for r in rows)
    generate_dataset(tmp_path / "mirror", source="folder", scenes_dir=scene_folder, qa_per_scene=4, mirror=True,
                     generator=stub)
    assert len(calls) == 3  # once per scene, for its flipped view


def test_broken_and_non_rgb_images(tmp_path, scene_folder, stub, manifest_of):
    img = scene_folder / "images" / "scene_001.png"
    img.write_bytes(img.read_bytes()[: len(img.read_bytes()) // 2])  # truncated file
    rgba = scene_folder / "images" / "scene_002.png"
    Image.open(rgba).convert("RGBA").save(rgba)
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, generator=stub)
    d = manifest_of(out)
    assert "scene_001" in d["skipped"] and "unreadable" in d["skipped"]["scene_001"]
    rows = [r for r in iter_rows(out) if r["scene_id"] == "scene_002"]
    decoded = Image.open(io.BytesIO(rows[0]["image"]["bytes"]))
    assert decoded.mode == "RGB"  # re-encoded as RGB, not the RGBA file as is
    assert (np.asarray(decoded) == np.asarray(Image.open(rgba).convert("RGB"))).all()
    assert sorted(d["done"]) == ["scene_000", "scene_002"]


def test_16_bit_gray_images_are_scaled_by_their_bit_depth(tmp_path, scene_folder, stub):
    g16 = (np.arange(48 * 64, dtype=np.uint32).reshape(48, 64) * 21).astype(np.uint16)  # 0 .. 64491
    g16[0, 0], g16[0, 1] = 65535, 257 * 100 + 129  # white; 100.502 rounds up
    Image.fromarray(g16).save(scene_folder / "images" / "scene_001.png")
    assert Image.open(scene_folder / "images" / "scene_001.png").mode == "I;16"
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, mirror=True, generator=stub)
    rows = [r for r in iter_rows(out) if r["scene_id"] == "scene_001"]
    assert rows
    expected = np.round(g16 / 257.0 + 1e-9).astype(np.uint8)
    assert expected[0, 0] == 255 and expected[0, 1] == 101 and 100 < expected.mean() < 150  # not all white
    for r in rows:
        img = np.asarray(Image.open(io.BytesIO(r["image"]["bytes"])))
        assert img.dtype == np.uint8 and img.shape == (48, 64, 3)
        want = expected[:, ::-1] if r["flipped"] else expected
        assert (img == want[:, :, None]).all()


def test_unsupported_pixel_modes_are_skipped_with_the_file_named(tmp_path, scene_folder, stub, manifest_of):
    Image.fromarray(np.ones((48, 64), np.float32)).save(scene_folder / "images" / "scene_001.tiff")
    d = json.loads((scene_folder / "scene_001.json").read_text())
    d["image_path"] = "images/scene_001.tiff"
    (scene_folder / "scene_001.json").write_text(json.dumps(d))
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, generator=stub)
    assert re.search(r"image file .*scene_001.tiff has pixel mode 'F'", manifest_of(out)["skipped"]["scene_001"])


def test_empty_masks_of_visible_objects_skip_the_scene(tmp_path, scene_folder, stub, manifest_of):
    from spatialforge import MaskRLE, Scene

    p = scene_folder / "scene_002.json"
    sc = Scene.load(p)
    empty = MaskRLE.encode(np.zeros((48, 64), bool))
    objs = [replace(o, mask=empty, occlusion=0.0, truncation=0.0) for o in sc.objects]
    replace(sc, objects=tuple(objs)).save(p)
    # a fully hidden object may have an empty mask: that scene is kept
    p1 = scene_folder / "scene_001.json"
    sc1 = Scene.load(p1)
    hidden = replace(sc1.objects[1], mask=empty, box2d=None, occlusion=1.0, truncation=0.0)
    replace(sc1, objects=(sc1.objects[0], hidden)).save(p1)
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, generator=stub)
    d = manifest_of(out)
    assert re.fullmatch(r"scene 'scene_002': 2 of 2 objects have an empty mask but the scene says they are "
                        r"visible, e.g. object 1 \(chair\): box2d \(5.0, 10.0, 25.0, 40.0\), occlusion 0.0, "
                        r"truncation 0.0", d["skipped"]["scene_002"])
    assert sorted(d["done"]) == ["scene_000", "scene_001"]


@pytest.mark.parametrize("limits", [(1000, 64 << 20), (3, 64 << 20), (5, 1), (7, 30_000)])
def test_scene_rows_write_the_bytes_of_their_tables(tmp_path, scene_folder, stub, monkeypatch, limits):
    """``write_scene_rows`` (arrays built per row group) writes the bytes ``write_shard`` writes for
    the concatenated per-scene tables: same values, row groups (scenes cut at the row limit, cut at
    the byte limit) and image dictionaries."""
    import pyarrow as pa

    from spatialforge.datasets import pipeline
    from spatialforge.scene import Scene

    monkeypatch.setattr(P, "ROW_GROUP_ROWS", limits[0])
    monkeypatch.setattr(P, "ROW_GROUP_BYTES", limits[1])
    scenes = []
    for path in sorted(scene_folder.glob("*.json")):
        scene = Scene.load(path)
        records = stub(scene, seed=len(scenes), qa_per_scene=4 + 3 * len(scenes), mirror=True).records
        scenes.append(pipeline.build_table(records, scene, scene.load_image, root=scene_folder, scene_path=path))
    P.write_scene_rows(scenes, tmp_path / "rows.parquet")
    P.write_shard(pa.concat_tables([P.rows_table([s]) for s in scenes]), tmp_path / "table.parquet")
    assert (tmp_path / "rows.parquet").read_bytes() == (tmp_path / "table.parquet").read_bytes()
    # every row carries its own view's columns (original and mirrored camera) and its own fields
    rows = [r for b in P.iter_batches(tmp_path / "rows.parquet") for r in b]
    expected = [(s.columns["id"][j], s.views[s.view_index[j]]) for s in scenes for j in range(s.num_rows)]
    assert len(rows) == len(expected) and {r["flipped"] for r in rows} == {False, True}
    for row, (rid, view) in zip(rows, expected):
        assert row["id"] == rid and all(row[k] == view[k] for k in P._VIEW_COLUMNS)
        assert row["cx"] == (64 - 30.5 if row["flipped"] else 30.5)  # the view's camera (W = 64)
    assert pq.ParquetFile(tmp_path / "rows.parquet").num_row_groups >= (1 if limits == (1000, 64 << 20) else 3)
