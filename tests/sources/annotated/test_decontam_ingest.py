"""--exclude-benchmark on ingest and generate: a VSI-Bench scene never reaches the scenes or the QA shards."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from spatialforge.cli import app
from tests.sources.annotated.writers import write_scannet

runner = CliRunner()


def _vsi_file(path, scene):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"id": 1, "dataset": "scannet", "scene_name": scene, "question_type": "object_counting",
                                "question": "How many chair(s) are in this room?", "options": None,
                                "ground_truth": "2"}) + "\n")
    return path


def test_ingest_and_generate_exclude_benchmark_scenes(samples, tmp_path):
    names = write_scannet(samples, tmp_path / "d")
    assert names == ["scene0000_00", "scene0001_00"]
    vsi = _vsi_file(tmp_path / "vsi" / "test.jsonl", "scene0001_00")
    res = runner.invoke(app, ["ingest", "scannet", str(tmp_path / "d"), "--out", str(tmp_path / "s"),
                              "--exclude-benchmark", f"vsibench={vsi}"])
    assert res.exit_code == 0, res.output
    man = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert man["done"] == ["scannet-scene0000_00-0"]
    assert man["stats"]["excluded"]["items"] == {"scannet-scene0001_00-0": "vsibench:scene0001_00"}
    assert man["stats"]["excluded"]["benchmarks"]["vsibench"] == {"source": str(vsi), "n_scene_ids": 1}
    assert not (tmp_path / "s" / "scannet-scene0001_00-0.json").exists()

    # generate over scenes ingested without exclusion: the benchmark's room is left out there too
    assert runner.invoke(app, ["ingest", "scannet", str(tmp_path / "d"), "--out", str(tmp_path / "all")]).exit_code == 0
    vsi0 = _vsi_file(tmp_path / "vsi0" / "test.jsonl", "scene0000_02")  # another scan of room scene0000
    res = runner.invoke(app, ["generate", "--source", "folder", "--scenes", str(tmp_path / "all"), "--out",
                              str(tmp_path / "ds"), "--qa-per-scene", "5", "--exclude-benchmark", f"vsibench={vsi0}"])
    assert res.exit_code == 0, res.output
    man = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert man["done"] == ["scannet-scene0001_00-0"], man["done"]
    assert man["stats"]["excluded"]["items"] == {"scannet-scene0000_00-0": "vsibench:scene0000_02"}
    import pyarrow.parquet as pq

    scene_ids = {r["scene_id"] for f in (tmp_path / "ds" / "data").glob("*.parquet") for r in pq.read_table(f).to_pylist()}
    assert scene_ids == {"scannet-scene0001_00-0"}


def test_exclude_benchmark_bad_path_is_a_usage_error(samples, tmp_path):
    write_scannet(samples[:1], tmp_path / "d")
    res = runner.invoke(app, ["ingest", "scannet", str(tmp_path / "d"), "--out", str(tmp_path / "s"),
                              "--exclude-benchmark", f"vsibench={tmp_path / 'missing.jsonl'}"])
    assert res.exit_code == 2 and "not found" in res.output and "Traceback" not in res.output
