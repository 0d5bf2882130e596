import json

import pytest
from typer.testing import CliRunner

from spatialforge.cli import app
from spatialforge.datasets import load_records


@pytest.fixture
def cli_stub(monkeypatch, stub):
    import spatialforge.datasets.pipeline as pipeline

    monkeypatch.setattr(pipeline, "_default_generator", lambda: stub)


def test_generate_folder_export_and_show(tmp_path, scene_folder, cli_stub):
    out = tmp_path / "ds"
    runner = CliRunner()
    res = runner.invoke(app, ["generate", "--source", "folder", "--scenes", str(scene_folder), "--out", str(out),
                              "--mirror", "--seed", "5", "--qa-per-scene", "4", "--tasks",
                              "object_size,relative_direction", "--export", "llava"])
    assert res.exit_code == 0, res.output
    d = json.loads((out / "manifest.json").read_text())
    assert d["params"]["tasks"] == ["object_size", "relative_direction"] and d["params"]["seed"] == 5
    assert set(d["stats"]["counts"]["task"]) == {"object_size", "relative_direction"}
    assert len(load_records(out)) == 12 and (out / "exports/llava/llava.json").is_file()
    page = tmp_path / "page.html"
    res = runner.invoke(app, ["show", str(out), "--num", "3", "--out", str(page)])
    assert res.exit_code == 0, res.output
    assert page.read_text().count('class="card"') == 3


def test_generate_reports_bad_options(tmp_path, cli_stub):
    runner = CliRunner()
    res = runner.invoke(app, ["generate", "--source", "folder", "--out", str(tmp_path / "ds")])
    assert res.exit_code != 0 and "scenes" in res.output
    res = runner.invoke(app, ["generate", "--out", str(tmp_path / "ds"), "--size", "big"])
    assert res.exit_code != 0 and "WIDTHxHEIGHT" in res.output


def _real_pipeline_available() -> bool:
    try:
        from spatialforge.sources.synthetic import write_scenes  # noqa: F401
        from spatialforge.tasks import generate_qa  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _real_pipeline_available(), reason="task engine / synthetic source not installed yet")
def test_end_to_end_synthetic_two_scenes(tmp_path):
    import numpy as np

    from spatialforge.datasets import load_hf_dataset

    out = tmp_path / "ds"
    res = CliRunner().invoke(app, ["generate", "--source", "synthetic", "--num-scenes", "2", "--size", "160x120",
                                   "--mirror", "--qa-per-scene", "8", "--out", str(out), "--export", "trl"])
    assert res.exit_code == 0, res.output
    d = json.loads((out / "manifest.json").read_text())
    assert d["stats"]["num_scenes"] == 2 and d["stats"]["num_records"] > 0
    ds = load_hf_dataset(out, cache_dir=tmp_path / "cache")
    rows = list(ds)
    assert {r["image"].size for r in rows} == {(160, 120)}
    by_pair: dict[str, dict] = {}
    for r in rows:
        by_pair.setdefault(r["pair_id"], {})[r["view"]] = r
    pairs = [p for p in by_pair.values() if {"original", "mirrored"} <= set(p)]
    assert pairs, "mirror=True must give pairs"
    o, m = pairs[0]["original"], pairs[0]["mirrored"]
    assert (np.asarray(m["image"]) == np.asarray(o["image"])[:, ::-1]).all()
    assert all(r["depth_path"] and (out / r["depth_path"]).is_file() for r in rows)
    assert sorted((out / "exports/trl").glob("*.parquet"))
    res = CliRunner().invoke(app, ["show", str(out), "--num", "4"])
    assert res.exit_code == 0, res.output
    assert (out / "show.html").stat().st_size > 1000
