"""The shared ingest framework and its CLI: subsampling, resume, argument errors, generate."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from spatialforge.cli import app
from spatialforge.sources.annotated import ingest
from tests.sources.annotated.writers import write_omni3d

runner = CliRunner()


def _cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_cli_ingest_every_num_and_resume(samples, tmp_path):
    js = write_omni3d(samples * 3, tmp_path / "d")  # 6 images
    out = tmp_path / "out"
    res = _cli("ingest", "omni3d", js, "--out", out, "--every", 2)
    assert res.exit_code == 0, res.output
    done = json.loads((out / "manifest.json").read_text())["done"]
    assert done == ["omni3d-7-100", "omni3d-7-102", "omni3d-7-104"]
    (out / "omni3d-7-102.json").unlink()  # a half-finished run: resume rewrites only what is missing
    before = (out / "omni3d-7-100.json").stat().st_mtime_ns
    m = ingest("omni3d", js, out, every=2)
    assert m.done == done and (out / "omni3d-7-102.json").is_file()
    assert (out / "omni3d-7-100.json").stat().st_mtime_ns == before
    m = ingest("omni3d", js, tmp_path / "o2", num=2)
    assert m.done == ["omni3d-7-100", "omni3d-7-101"]


def test_cli_bad_arguments(samples, tmp_path):
    js = write_omni3d(samples, tmp_path / "d")
    for args, msg in [(("nope", js), "unknown dataset 'nope'"), (("omni3d", js, "--every", 0), "--every must be >= 1"),
                      (("omni3d", tmp_path / "missing.json"), "not found")]:
        res = _cli("ingest", *args, "--out", tmp_path / "o")
        assert res.exit_code == 2 and msg in res.output and "Traceback" not in res.output, res.output


def test_generate_reads_ingested_scenes(samples, tmp_path):
    js = write_omni3d(samples, tmp_path / "d")
    ingest("omni3d", js, tmp_path / "scenes")
    res = _cli("generate", "--source", "folder", "--scenes", tmp_path / "scenes", "--out", tmp_path / "ds",
               "--qa-per-scene", 5)
    assert res.exit_code == 0, res.output
    man = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert man["num_done"] == 2, man["skipped"]
    # Omni3D has no depth: pixel-depth tasks are skipped per scene, never a whole scene
    assert all("/" in k for k in man["skipped"]), man["skipped"]
    assert man["skipped"]["omni3d-7-100/depth_order"].startswith("scene has no depth")
