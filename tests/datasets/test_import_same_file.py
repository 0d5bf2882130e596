"""import_scene when the scene already lies in the output folder (same files, found by stat)."""

from __future__ import annotations


def test_import_scene_into_its_own_folder_touches_nothing(tmp_path):
    from spatialforge.datasets.pipeline import import_scene
    from spatialforge.sources.synthetic import write_scenes

    (p,) = write_scenes(tmp_path / "scenes", num=1, seed=0, size=(64, 48))
    before = {f: f.read_bytes() for f in (tmp_path / "scenes").rglob("*") if f.is_file()}
    assert import_scene(p, tmp_path / "scenes") == p  # same files: no copy onto itself, no rewrite
    assert {f: f.read_bytes() for f in (tmp_path / "scenes").rglob("*") if f.is_file()} == before


def test_imported_record_is_the_one_written(tmp_path):
    """The record ``import_scene`` hands on (so the run does not parse the file again) equals
    ``Scene.load`` of the file it wrote, paths and root included."""
    from spatialforge.datasets.pipeline import import_scene
    from spatialforge.scene import Scene
    from spatialforge.sources.synthetic import write_scenes

    (src,) = write_scenes(tmp_path / "src", num=1, seed=0, size=(64, 48))
    loaded: dict = {}
    dst = import_scene(src, tmp_path / "out" / "scenes", loaded)
    again = Scene.load(dst)
    assert list(loaded) == [dst]
    assert loaded[dst] == again and loaded[dst].root == again.root == str(dst.parent)
    assert loaded[dst].to_json() == dst.read_text()


def test_a_folder_run_parses_each_scene_once(tmp_path, monkeypatch):
    from spatialforge.datasets import generate_dataset
    from spatialforge.scene import Scene
    from spatialforge.sources.synthetic import write_scenes

    write_scenes(tmp_path / "src", num=2, seed=0, size=(64, 48))
    (tmp_path / "src" / "manifest.json").unlink(missing_ok=True)
    loads = []
    real = Scene.load.__func__
    monkeypatch.setattr(Scene, "load", classmethod(lambda cls, p: loads.append(p) or real(cls, p)))
    m = generate_dataset(tmp_path / "ds", source="folder", scenes_dir=tmp_path / "src", qa_per_scene=3)
    assert m.stats["num_scenes"] == 2
    assert sorted(p.parent.name for p in loads) == ["src", "src"]  # the import's reads only
