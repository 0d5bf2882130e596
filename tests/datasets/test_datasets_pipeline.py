import sys

import pyarrow.parquet as pq
import pytest

from spatialforge.datasets import DatasetError, generate_dataset, load_records, shard_paths
from spatialforge.errors import ConfigError, DataError


def _run(out, folder, gen, **kw):
    args = dict(source="folder", scenes_dir=folder, qa_per_scene=4, mirror=True, shard_size=10, generator=gen)
    args.update(kw)
    return generate_dataset(out, **args)


def test_manifest_counts_params_and_skips(tmp_path, scene_folder, stub, manifest_of):
    out = tmp_path / "ds"
    m = _run(out, scene_folder, stub, seed=7)
    d = manifest_of(out)
    assert d["command"] == "generate" and d["params"]["seed"] == 7 and d["params"]["mirror"] is True
    assert d["params"]["qa_per_scene"] == 4 and "pyarrow" in d["stats"]["versions"]
    assert "spatialforge" in d["versions"]
    stats = d["stats"]
    assert stats["num_records"] == 24 and stats["num_scenes"] == 3
    counts = stats["counts"]
    for key in ("task", "level", "format"):
        assert sum(counts[key].values()) == 24
    assert counts["view"] == {"mirrored": 12, "original": 12}
    assert counts["task"]["object_size"] == 6 and counts["level"]["2"] == 12
    assert counts["format"] == {"free": 12, "mcq": 6, "tf": 6}  # k = 0..3 cycles free, mcq, tf, free
    # the generator's skipped items are kept, keyed by scene
    assert d["skipped"]["scene_001/spatial_counting"] == "needs at least 3 objects"
    assert sorted(d["done"]) == ["scene_000", "scene_001", "scene_002"]
    assert m.stats["counts"] == counts


def test_bad_scenes_are_skipped_with_reasons(tmp_path, scene_folder, stub, scene_writer, manifest_of):
    (scene_folder / "broken.json").write_text("{not json")
    scene_writer(scene_folder, 7)
    (scene_folder / "images" / "scene_007.png").unlink()  # missing image
    out = tmp_path / "ds"
    _run(out, scene_folder, stub)
    d = manifest_of(out)
    assert "not valid JSON" in d["skipped"]["broken.json"]
    assert "image file" in d["skipped"]["scene_007"] and "not found" in d["skipped"]["scene_007"]
    assert sorted(d["done"]) == ["scene_000", "scene_001", "scene_002"]
    assert d["stats"]["num_records"] == 24  # nothing else lost


def test_data_errors_skip_a_scene_and_bugs_propagate(tmp_path, scene_folder, stub, manifest_of, monkeypatch):
    def flaky(scene, **kw):
        if scene.id == "scene_001":
            raise DataError(f"scene {scene.id!r}: no valid object pairs")
        return stub(scene, **kw)

    (scene_folder / "bad.json").write_text('{"id": "bad", "image_path": null}')
    out = tmp_path / "ds"
    _run(out, scene_folder, flaky)
    d = manifest_of(out)
    assert "no valid object pairs" in d["skipped"]["scene_001"]
    assert "image_path is missing or null" in d["skipped"]["bad.json"]
    assert d["stats"]["num_scenes"] == 2

    def broken(scene, **kw):  # a bug in our own code: not a skip
        if scene.id == "scene_001":
            raise TypeError("bug")
        return stub(scene, **kw)

    with pytest.raises(TypeError, match="bug"):
        _run(tmp_path / "ds2", scene_folder, broken)
    # the same for a bug below the generator, in the pipeline's own per-scene code
    import spatialforge.datasets.pipeline as pipeline

    monkeypatch.setattr(pipeline, "build_table", lambda *a, **k: (_ for _ in ()).throw(TypeError("bug 2")))
    with pytest.raises(TypeError, match="bug 2"):
        _run(tmp_path / "ds3", scene_folder, stub)


def test_no_records_at_all_is_an_error(tmp_path, scene_folder, stub, manifest_of):
    def nothing(scene, **kw):
        raise DataError(f"scene {scene.id!r}: nothing to ask")

    with pytest.raises(DataError, match=r"no records were generated from 3 scene\(s\); first skip: scene_000: "
                                        r"generation failed: scene 'scene_000': nothing to ask"):
        _run(tmp_path / "ds", scene_folder, nothing)
    assert "nothing to ask" in manifest_of(tmp_path / "ds")["skipped"]["scene_001"]  # the manifest still says why
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no scene JSON files"):
        _run(tmp_path / "ds2", tmp_path / "empty", stub)


class Crash(BaseException):
    """Simulates the process dying (not an error a batch job catches)."""


def test_resume_after_crash_has_no_duplicates_and_same_bytes(tmp_path, scene_folder, stub, scene_writer, manifest_of):
    for i in range(3, 7):
        scene_writer(scene_folder, i)  # 7 scenes, 8 records each
    calls = []

    def crashing(scene, **kw):
        calls.append(scene.id)
        if len(calls) == 5:
            raise Crash()
        return stub(scene, **kw)

    out = tmp_path / "ds"
    with pytest.raises(Crash):
        _run(out, scene_folder, crashing, shard_size=20)  # two scenes per shard
    d = manifest_of(out)
    # shard 0 (scenes 0, 1) was written when scene 2 did not fit; scenes 2, 3 were in memory
    assert sorted(d["done"]) == ["scene_000", "scene_001"]
    assert len(shard_paths(out)) == 1
    # a stray shard from a crash between writing and recording it is removed on resume
    (out / "data" / "shard-00001.parquet").write_bytes(b"partial")

    calls.clear()
    m = _run(out, scene_folder, stub, shard_size=20)
    records = load_records(out)
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)) == 56
    assert m.stats["num_scenes"] == 7 and m.stats["num_records"] == 56
    assert sum(m.stats["counts"]["task"].values()) == 56

    clean = tmp_path / "clean"
    _run(clean, scene_folder, stub, shard_size=20)
    assert [p.read_bytes() for p in shard_paths(out)] == [p.read_bytes() for p in shard_paths(clean)]
    assert manifest_of(out)["stats"]["counts"] == manifest_of(clean)["stats"]["counts"]


def test_rerun_resumes_without_work_and_other_params_refuse(tmp_path, scene_folder, stub):
    out = tmp_path / "ds"
    _run(out, scene_folder, stub)
    calls = []

    def counting(scene, **kw):
        calls.append(scene.id)
        return stub(scene, **kw)

    m = _run(out, scene_folder, counting)
    assert calls == [] and m.stats["num_records"] == 24
    with pytest.raises(DatasetError, match="other parameters.*seed"):
        _run(out, scene_folder, stub, seed=1)
    m = _run(out, scene_folder, stub, seed=1, overwrite=True, mirror=False)
    assert m.stats["num_records"] == 12 and all(not r.flipped for r in load_records(out))


def test_duplicate_scene_ids_are_skipped(tmp_path, scene_folder, stub, manifest_of):
    (scene_folder / "zz_copy.json").write_text((scene_folder / "scene_000.json").read_text())
    out = tmp_path / "ds"
    _run(out, scene_folder, stub)
    d = manifest_of(out)
    assert "duplicate scene id 'scene_000'" in d["skipped"]["zz_copy.json"]
    assert d["stats"]["num_records"] == 24


def test_ray_missing_gives_clear_error(tmp_path, scene_folder, stub, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(DatasetError, match="pip install 'spatialforge\\[ray\\]'"):
        _run(tmp_path / "ds", scene_folder, stub, use_ray=True)


def test_folder_errors(tmp_path, stub):
    with pytest.raises(DatasetError, match="scenes_dir"):
        generate_dataset(tmp_path / "ds", source="folder", scenes_dir=tmp_path / "nope", generator=stub)
    with pytest.raises(DatasetError, match="source must be"):
        generate_dataset(tmp_path / "ds", source="web", generator=stub)


def test_shard_size_bounds_records(tmp_path, scene_folder, stub):
    out = tmp_path / "ds"
    _run(out, scene_folder, stub, shard_size=3)  # a scene (8 records) is never split
    assert [pq.read_metadata(p).num_rows for p in shard_paths(out)] == [8, 8, 8]


def test_ray_matches_local(tmp_path, scene_folder, stub):
    ray = pytest.importorskip("ray")
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[stub.__module__])  # test helpers are not importable
    try:
        _run(tmp_path / "ray", scene_folder, stub, use_ray=True)
    finally:
        ray.shutdown()
    _run(tmp_path / "local", scene_folder, stub)
    assert [p.read_bytes() for p in shard_paths(tmp_path / "ray")] == \
        [p.read_bytes() for p in shard_paths(tmp_path / "local")]


def test_relative_and_absolute_out_give_identical_bytes(tmp_path, scene_folder, stub, monkeypatch):
    work = tmp_path / "cwd"
    (work / "sub").mkdir(parents=True)
    monkeypatch.chdir(work)
    _run("sub/ds", scene_folder, stub)  # relative, as `--out sub/ds` from a shell
    _run(work / "abs_ds", scene_folder, stub)
    monkeypatch.chdir(work / "sub")
    _run("../sub/../dotted_ds", scene_folder, stub)  # spelled oddly
    shards = [[p.read_bytes() for p in shard_paths(work / d)] for d in ("sub/ds", "abs_ds", "dotted_ds")]
    assert len(shards[0]) == 3 and shards[0] == shards[1] == shards[2]
    rows = [r for p in shard_paths(work / "sub/ds")
            for r in pq.read_table(p, columns=["scene_path", "image_path", "depth_path"]).to_pylist()]
    assert {r["scene_path"] for r in rows} == {f"scenes/scene_00{i}.json" for i in range(3)}
    assert {r["image_path"] for r in rows} == {f"scenes/images/scene_00{i}.png" for i in range(3)}
    assert all(r["depth_path"].startswith("scenes/depth/") for r in rows)
