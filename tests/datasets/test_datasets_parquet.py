import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from spatialforge.datasets import generate_dataset, load_hf_dataset, load_records, point_map_from_row, shard_paths
from spatialforge.datasets.parquet import iter_rows
from spatialforge.tasks.record import QARecord


@pytest.fixture
def built(tmp_path, scene_folder, stub):
    out = tmp_path / "ds"
    m = generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=6, mirror=True,
                         shard_size=25, generator=stub, seed=3)
    return out, m


def test_shards_hold_whole_scenes_and_hf_image_schema(built):
    out, m = built
    shards = shard_paths(out)
    assert [p.name for p in shards] == ["shard-00000.parquet", "shard-00001.parquet"]
    assert [pq.read_metadata(p).num_rows for p in shards] == [24, 12]  # 12 records/scene, <= 25
    meta = json.loads(pq.read_schema(shards[0]).metadata[b"huggingface"])
    assert meta["info"]["features"]["image"] == {"_type": "Image"}
    cols = pq.read_schema(shards[0]).names
    for c in ("id", "pair_id", "view", "scene_id", "image", "question", "answer", "answer_struct", "task",
              "level", "format", "eval_type", "fx", "fy", "cx", "cy", "depth_path", "flipped", "scene_path"):
        assert c in cols
    assert m.stats["num_records"] == 36 and m.stats["num_shards"] == 2


def test_load_dataset_decodes_images_and_mirror_is_flipped(built, tmp_path):
    out, _ = built
    ds = load_hf_dataset(out, cache_dir=tmp_path / "hf_cache")
    assert len(ds) == 36
    by_id = {r["id"]: r for r in ds}
    for rid, row in by_id.items():
        assert row["image"].size == (64, 48)
        if row["view"] == "mirrored":
            orig = by_id[rid[:-1] + "o"]
            assert orig["pair_id"] == row["pair_id"] and row["flipped"] and not orig["flipped"]
            a, b = np.asarray(orig["image"]), np.asarray(row["image"])
            assert (b == a[:, ::-1]).all() and not (a == b).all()
            assert row["cx"] == pytest.approx(64 - orig["cx"]) and row["fx"] == orig["fx"]
            assert json.loads(row["answer_struct"])["kind"] == json.loads(orig["answer_struct"])["kind"]
    # the original view's pixels are the file's pixels
    first = by_id["scene_000-000-o"]
    from spatialforge.files import read_image

    assert (np.asarray(first["image"]) == read_image(out / first["image_path"])).all()


def test_qarecord_round_trip(built, stub):
    out, _ = built
    from spatialforge import Scene
    from spatialforge.datasets import scene_seed

    records = load_records(out)
    assert len(records) == len({r.id for r in records}) == 36
    scene = Scene.load(out / "scenes" / "scene_001.json")
    expected = stub(scene, seed=scene_seed(3, "scene_001"), qa_per_scene=6, mirror=True).records
    got = [r for r in records if r.scene_id == "scene_001"]
    # every QARecord field survives Parquet; image_path becomes relative to the dataset root
    from dataclasses import replace

    assert got == [replace(r, image_path="scenes/images/scene_001.png") for r in expected]
    assert all(isinstance(r, QARecord) for r in records)


def test_depth_reference_and_point_map_of_mirrored_view(built):
    out, _ = built
    rows = {r["id"]: r for r in iter_rows(out, columns=None)}
    o, mrow = rows["scene_002-001-o"], rows["scene_002-001-m"]
    assert o["depth_path"] == "scenes/depth/scene_002.npy" and (out / o["depth_path"]).is_file()
    assert mrow["depth_path"] == o["depth_path"] and mrow["flipped"]
    pm_o, pm_m = point_map_from_row(o, out), point_map_from_row(mrow, out)
    assert pm_o.shape == (48, 64, 3)
    # mirrored view: columns reversed and x negated, y and z unchanged
    assert np.allclose(pm_m[..., 0], -pm_o[:, ::-1, 0], atol=1e-5)
    assert np.allclose(pm_m[..., 1:], pm_o[:, ::-1, 1:], atol=1e-6)
    # unprojection agrees with the scene camera
    from spatialforge import Scene

    sc = Scene.load(out / o["scene_path"])
    depth = sc.load_depth()
    r, c = 7, 11
    assert np.allclose(pm_o[r, c], sc.camera.unproject([[c + 0.5, r + 0.5]], [depth[r, c]])[0], atol=1e-5)


def test_same_seed_same_bytes(tmp_path, scene_folder, stub, built):
    out, _ = built
    out2 = tmp_path / "ds2"
    generate_dataset(out2, source="folder", scenes_dir=scene_folder, qa_per_scene=6, mirror=True,
                     shard_size=25, generator=stub, seed=3)
    for a, b in zip(shard_paths(out), shard_paths(out2), strict=True):
        assert a.read_bytes() == b.read_bytes()
    out3 = tmp_path / "ds3"
    generate_dataset(out3, source="folder", scenes_dir=scene_folder, qa_per_scene=6, mirror=True,
                     shard_size=25, generator=stub, seed=4)
    assert shard_paths(out3)[0].read_bytes() != shard_paths(out)[0].read_bytes()


def test_point_map_file_of_mirrored_view_matches_its_depth(tmp_path, scene_folder, stub):
    """Rows with ``point_map_path`` (the stored camera-frame points, never flipped on disk) give the
    view's point map: for the mirrored view, columns reversed and x negated, exactly what the
    view's own intrinsics (cx -> W - cx) give from the depth file."""
    from spatialforge import Scene

    (scene_folder / "point_maps").mkdir()
    for p in sorted(scene_folder.glob("scene_*.json")):
        sc = Scene.load(p)
        depth = sc.load_depth()
        H, W = depth.shape
        v, u = np.mgrid[0:H, 0:W] + 0.5
        pm = sc.camera.unproject(np.stack([u.ravel(), v.ravel()], 1), depth.ravel()).reshape(H, W, 3)
        np.save(scene_folder / "point_maps" / f"{sc.id}.npy", pm.astype(np.float32))
        d = sc.to_dict()
        d["point_map_path"] = f"point_maps/{sc.id}.npy"
        p.write_text(json.dumps(d))
    out = tmp_path / "ds"
    generate_dataset(out, source="folder", scenes_dir=scene_folder, qa_per_scene=4, mirror=True, generator=stub)
    rows = list(iter_rows(out, columns=None))
    assert {r["flipped"] for r in rows} == {True, False}
    for r in rows:
        assert r["point_map_path"] == f"scenes/point_maps/{r['scene_id']}.npy"
        from_file = point_map_from_row(r, out)
        from_depth = point_map_from_row({**r, "point_map_path": None}, out)
        assert from_file.shape == (48, 64, 3) and from_file.dtype == np.float32
        assert np.allclose(from_file, from_depth, atol=1e-5), (r["id"], r["flipped"])
    m = next(r for r in rows if r["flipped"])
    stored = np.load(out / m["point_map_path"])
    assert np.array_equal(point_map_from_row(m, out), stored[:, ::-1] * np.float32([-1, 1, 1]))
