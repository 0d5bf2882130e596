"""``spatialforge app``: inputs are checked before the server starts; it binds 127.0.0.1 by default."""

from __future__ import annotations

from typer.testing import CliRunner

import spatialforge.app.server as server
from spatialforge.cli import app


def test_bad_inputs_stop_before_serving(tmp_path, dataset, monkeypatch):
    monkeypatch.setattr(server, "serve", lambda *a, **k: (_ for _ in ()).throw(AssertionError("served")))
    r = CliRunner().invoke(app, ["app", "--dataset", str(tmp_path)])
    assert r.exit_code == 2 and r.output.strip().splitlines() == [
        f"error: --dataset: {tmp_path}: not a dataset folder (no data/shard-*.parquet; write one with `spatialforge generate`)"]
    r = CliRunner().invoke(app, ["app", "--dataset", str(dataset), "--eval-a", str(dataset)])
    assert r.exit_code == 2 and "error: --eval-a: " in r.output and "no results.json" in r.output
    r = CliRunner().invoke(app, ["app", "--perception", str(tmp_path / "none.yaml")])
    assert r.exit_code == 2 and "perception config not found" in r.output


def test_serves_on_localhost_by_default(dataset, monkeypatch):
    seen = {}
    monkeypatch.setattr(server, "serve", lambda *a, **k: seen.update(args=a, **k))
    r = CliRunner().invoke(app, ["app", "--dataset", str(dataset.parent), "--port", "7999"])
    assert r.exit_code == 0, r.output
    assert seen["host"] == "127.0.0.1" and seen["port"] == 7999 and seen["args"][0] == dataset.parent


def test_depth_colour_runs_near_to_far_and_marks_missing_depth():
    import numpy as np

    from spatialforge.app.ask import depth_colour

    depth = np.array([[1.0, 2.0, 3.0, 0.0, np.nan]], np.float32)
    c = depth_colour(depth).astype(int)
    assert c[0, 0].tolist() == [68, 1, 84] and c[0, 2].tolist() == [253, 231, 37]  # viridis ends
    assert c[0, 3].tolist() == [0, 0, 0] and c[0, 4].tolist() == [0, 0, 0]
    assert c[0, 0, 2] > c[0, 0, 1] and c[0, 2, 1] > c[0, 2, 2]  # near blue-violet, far yellow


def test_ask_leaves_no_temporary_files(photo, perception_cfg, tmp_path, monkeypatch):
    import tempfile

    import pytest

    from spatialforge.app.ask import ask
    from spatialforge.errors import DataError
    from spatialforge.perception.config import load_config

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cfg = load_config(perception_cfg)
    assert ask(photo, cfg, questions=1).rows
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DataError, match="^uploaded image: bad.jpg: unreadable image"):
        ask(bad, cfg, questions=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jpg"]
