"""import_scene when the scene already lies in the output folder (same files, found by stat)."""

from __future__ import annotations


def test_import_scene_into_its_own_folder_touches_nothing(tmp_path):
    from spatialforge.datasets.pipeline import import_scene
    from spatialforge.sources.synthetic import write_scenes

    (p,) = write_scenes(tmp_path / "scenes", num=1, seed=0, size=(64, 48))
    before = {f: f.read_bytes() for f in (tmp_path / "scenes").rglob("*") if f.is_file()}
    assert import_scene(p, tmp_path / "scenes") == p  # same files: no copy onto itself, no rewrite
    assert {f: f.read_bytes() for f in (tmp_path / "scenes").rglob("*") if f.is_file()} == before
