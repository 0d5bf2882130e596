import json
from dataclasses import replace

import numpy as np
from typer.testing import CliRunner

from geometry_raycast import build_scene
from spatialforge import Box3D, Scene
from spatialforge.cli import app
from spatialforge.geometry.estimate import estimate_folder
from spatialforge.files import write_depth, write_image, write_instance_mask
from spatialforge.scene import MaskRLE

BOXES = [Box3D((-0.6, 3.0, -1.5 + 0.35), (0.7, 0.7, 0.5), 0.3), Box3D((0.7, 3.5, -1.5 + 0.3), (0.9, 0.6, 0.5), -0.4)]


def _write_scene(folder, scene_id, drop_depth=False, bad_mask=False):
    scene, depth, ids = build_scene(BOXES, size=(160, 120), scene_id=scene_id)
    for sub in ("images", "depth", "masks"):
        (folder / sub).mkdir(exist_ok=True)
    write_image(folder / f"images/{scene_id}.png", np.zeros((120, 160, 3), np.uint8))
    if not drop_depth:
        write_depth(folder / f"depth/{scene_id}.npy", depth)
    write_instance_mask(folder / f"masks/{scene_id}.png", ids)
    objects = list(scene.objects)
    if bad_mask:
        objects.append(replace(objects[0], id=5, mask=MaskRLE.encode(np.zeros((120, 160), bool))))
    scene = replace(scene, image_path=f"images/{scene_id}.png", depth_path=f"depth/{scene_id}.npy",
                    objects=tuple(objects), metadata={"instance_mask_path": f"masks/{scene_id}.png"})
    scene.save(folder / f"{scene_id}.json")
    return scene


def test_folder_skips_bad_scenes_writes_good_ones_and_resumes(tmp_path):
    src = tmp_path / "scenes"
    src.mkdir()
    _write_scene(src, "good-a")
    _write_scene(src, "good-b", bad_mask=True)
    _write_scene(src, "no-depth", drop_depth=True)
    (src / "broken.json").write_text("{ not json")
    (src / "manifest.json").write_text(json.dumps({"command": "scenes"}))  # ignored

    m = estimate_folder(src)
    out = src / "estimated"
    assert sorted(m.done) == ["good-a.json", "good-b.json"]
    assert set(m.skipped) == {"broken.json", "no-depth.json"}
    assert "not valid JSON" in m.skipped["broken.json"]
    assert "'no-depth'" in m.skipped["no-depth.json"] and "not found" in m.skipped["no-depth.json"]
    assert m.stats["dropped"] == {"good-b.json": {"5": "empty mask"}}
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["num_done"] == 2 and on_disk["num_skipped"] == 2

    est = Scene.load(out / "good-a.json")
    assert all(o.provenance == "estimated" for o in est.objects) and len(est.objects) == 2
    assert est.load_depth().shape == (120, 160)  # paths still resolve from the new folder
    assert est.load_image().shape == (120, 160, 3)
    assert est.metadata["geometry"]["gravity_source"] == "floor"

    # resume: done scenes are not redone, a fixed scene is picked up
    stamp = (out / "good-a.json").stat().st_mtime_ns
    _write_scene(src, "no-depth")
    m2 = estimate_folder(src)
    assert (out / "good-a.json").stat().st_mtime_ns == stamp
    assert sorted(m2.done) == ["good-a.json", "good-b.json", "no-depth.json"]
    assert set(m2.skipped) == {"broken.json"}


def test_cli_geometry_command(tmp_path):
    _write_scene(tmp_path, "cli-scene")
    out = tmp_path / "est"
    result = CliRunner().invoke(app, ["geometry", str(tmp_path), "--out", str(out), "--use-camera-gravity"])
    assert result.exit_code == 0, result.output
    assert "estimated 1 scenes, skipped 0" in result.output
    est = Scene.load(out / "cli-scene.json")
    assert est.metadata["geometry"]["gravity_source"] == "camera"
    assert len(est.objects) == 2


def test_bugs_propagate_while_bad_scene_files_are_skipped(tmp_path, monkeypatch):
    import pytest

    import spatialforge.geometry.estimate as est_mod

    src = tmp_path / "scenes"
    src.mkdir()
    _write_scene(src, "good-a")
    d = json.loads((src / "good-a.json").read_text())
    d["id"], d["flipped"] = "bad-flag", "no"
    (src / "bad-flag.json").write_text(json.dumps(d))
    m = estimate_folder(src)
    assert m.done == ["good-a.json"]
    assert "bad-flag.json: scene 'bad-flag': flipped must be true or false, got 'no'" in m.skipped["bad-flag.json"]

    real = est_mod.estimate_scene

    def buggy(scene, **kw):  # a programming error in our own code is not a skipped scene
        if scene.id == "good-a":
            raise TypeError("unsupported operand")
        return real(scene, **kw)

    monkeypatch.setattr(est_mod, "estimate_scene", buggy)
    with pytest.raises(TypeError, match="unsupported operand"):
        estimate_folder(src, out=tmp_path / "est2")


def test_missing_and_empty_folders_and_bad_out(tmp_path):
    import pytest

    from spatialforge.errors import ConfigError, DataError

    with pytest.raises(DataError, match="nope: not a folder"):
        estimate_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no scene JSON files"):
        estimate_folder(tmp_path / "empty")
    _write_scene(tmp_path / "empty", "s")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"--out .*file/est: cannot create the folder"):
        estimate_folder(tmp_path / "empty", out=tmp_path / "file" / "est")
    with pytest.raises(ConfigError, match="must differ from the input folder"):
        estimate_folder(tmp_path / "empty", out=tmp_path / "empty")
