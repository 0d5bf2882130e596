"""Decontamination: benchmark scene ids from the benchmarks' own files, matched to ingested keys."""

from __future__ import annotations

import json

import pytest

from spatialforge.decontam import Exclusion, load_exclusion, parse_spec
from spatialforge.errors import ConfigError
from tests.eval.benchfix_multiview import write_site, write_vsibench


def test_parse_spec():
    assert parse_spec("vsibench=/d/test.jsonl, site") == [("vsibench", "/d/test.jsonl"), ("site", None)]
    for bad in ("", " , ", "vsibench="):
        with pytest.raises(ConfigError):
            parse_spec(bad)


def test_vsibench_scene_ids_and_matching(tmp_path):
    src = write_vsibench(tmp_path) / "test.jsonl"
    ex = load_exclusion(f"vsibench={src}")
    assert ex.sources == {"vsibench": {"source": str(src), "n_scene_ids": 4}}
    # ScanNet: the same scan and the room's other scans; ARKitScenes / CA-1M video ids; ScanNet++ ids
    assert ex.match("scannet-scene0000_00-120") == "vsibench:scene0000_00"
    assert ex.match("scannet-scene0001_00-0") == "vsibench:scene0001_01"  # a rescan of the tested room
    assert ex.match("arkitscenes-41069025-3050.123") == "vsibench:41069025"
    assert ex.match("ca1m-41069025-3050123") == "vsibench:41069025"
    assert ex.match("scannetpp-0a5c013435-DSC01") == "vsibench:0a5c013435"
    assert ex.match("scannet-scene0002_00-0") is None and ex.match("arkitscenes-41069026-1") is None
    assert ex.match("omni3d-41069025x-1") is None  # a part must equal the id, not contain it
    kept, excluded = ex.split(["scannet-scene0000_00-0", "scannet-scene0009_00-0"])
    assert kept == ["scannet-scene0009_00-0"] and excluded == {"scannet-scene0000_00-0": "vsibench:scene0000_00"}


def test_generic_scene_ids_from_paths(tmp_path):
    root = write_site(tmp_path)
    rows = [json.loads(line) for line in (root / "test.jsonl").read_text().splitlines()]
    rows[0]["visual"] = ["images/scannet/scene0042_00/frame_10.jpg"]
    (root / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    ex = load_exclusion(f"site={root}")
    assert ex.rooms == {"scene0042": "site:scene0042_00"}


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_exclusion(f"vsibench={tmp_path / 'none.jsonl'}")
    with pytest.raises(ConfigError, match="unknown benchmark"):
        load_exclusion(f"vsi={tmp_path}")


def test_record_lists_what_was_excluded():
    ex = Exclusion(rooms={"scene0000": "vsibench:scene0000_00"}, sources={"vsibench": {"source": "t", "n_scene_ids": 1}})
    stats: dict = {}
    ex.record(stats, {"scannet-scene0000_00-0": "vsibench:scene0000_00"})
    assert stats["excluded"] == {"benchmarks": {"vsibench": {"source": "t", "n_scene_ids": 1}}, "n_items": 1,
                                 "items": {"scannet-scene0000_00-0": "vsibench:scene0000_00"}}
