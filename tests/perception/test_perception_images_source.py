"""The images source end to end: image files -> perception -> geometry -> scenes -> dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from spatialforge.cli import app
from spatialforge.datasets import generate_dataset
from spatialforge.errors import DataError
from spatialforge.geometry.estimate import estimate_folder
from spatialforge.perception.base import BACKENDS
from spatialforge.perception.config import load_config, parse_config
from spatialforge.perception.oracle import OracleGeometry
from spatialforge.scene import Scene
from spatialforge.sources.images import generate_from_images, perceive_folder

from perception_helpers import CONFIGS, noise_image

ANSWER_COLUMNS = ["id", "scene_id", "task", "format", "question", "answer", "answer_struct", "object_ids",
                  "choices", "meta", "fx", "fy", "cx", "cy", "R_world_cam"]


def _rows(out: Path) -> pd.DataFrame:
    df = pd.concat([pd.read_parquet(f) for f in sorted((out / "data").glob("*.parquet"))])
    return df.sort_values("id").reset_index(drop=True)


def _oracle(rendered: Path, **changes) -> object:
    raw = {"vocabulary": list(load_config_vocab()), "filter": {"min_objects": 1},
           "postprocess": {"score_threshold": 0.0, "min_mask_box_agreement": 0.0, "min_mask_pixels": 1,
                           "max_detections": 1000},
           "stages": {k: {"backend": "oracle", "kwargs": {"scenes": str(rendered)}}
                      for k in ("geometry", "detection", "segmentation")}}
    raw.update(changes)
    return parse_config(raw)


def load_config_vocab():
    import yaml

    return yaml.safe_load((CONFIGS / "oracle.yaml").read_text())["vocabulary"]


def test_oracle_answers_equal_synthetic_source(oracle_env, image_folder, tmp_path):
    """The key test (issue #12): with oracle backends, a folder of RGB files alone (PNG and
    JPEG) gives exactly the answers of the synthetic scenes run through the same geometry
    estimate (``spatialforge geometry`` + ``--source folder``).  Compared with the estimate,
    not the GT boxes: the images path has no GT boxes, so equal answers prove its own steps
    (file reading, stage plumbing, masks, intrinsics, scene building) add no error."""
    rendered = oracle_env
    m = generate_from_images(image_folder, CONFIGS / "oracle.yaml", tmp_path / "img", qa_per_scene=20, seed=3)
    estimate_folder(rendered, tmp_path / "est")
    ref = generate_dataset(tmp_path / "syn", source="folder", scenes_dir=tmp_path / "est", qa_per_scene=20, seed=3)
    a, b = _rows(tmp_path / "img"), _rows(tmp_path / "syn")
    assert len(a) == len(b) > 30
    pd.testing.assert_frame_equal(a[ANSWER_COLUMNS].astype(str), b[ANSWER_COLUMNS].astype(str))
    assert {k: v for k, v in m.skipped.items()} == ref.skipped  # same task skips, no perception skips
    for p in sorted((tmp_path / "est").glob("synthetic-*.json")):
        want, got = Scene.load(p), Scene.load(tmp_path / "img" / "perceived" / p.name)
        assert [o.box3d for o in got.objects] == [o.box3d for o in want.objects]
        assert got.camera == want.camera
        assert all(o.front is None for o in got.objects)  # no orientation estimator: no fronts
        assert got.metadata["perception"]["stages"]["geometry"] == {
            "backend": "oracle", "model": str(rendered), "library": got.metadata["perception"]["stages"]["geometry"]["library"]}
    assert any("no referable object with a known front" in r for r in m.skipped.values())


def test_noisy_oracle_changes_boxes_but_runs(oracle_env, image_folder, tmp_path):
    m = perceive_folder(image_folder, CONFIGS / "noisy_oracle.yaml", tmp_path / "noisy")
    exact = perceive_folder(image_folder, CONFIGS / "oracle.yaml", tmp_path / "exact")
    assert len(m.done) == len(exact.done) == 3
    a = Scene.load(tmp_path / "noisy" / "synthetic-1-00000.json")
    b = Scene.load(tmp_path / "exact" / "synthetic-1-00000.json")
    assert a.objects and [o.box3d for o in a.objects] != [o.box3d for o in b.objects]


def test_written_layout_reads_back(oracle_env, image_folder, tmp_path):
    perceive_folder(image_folder, CONFIGS / "oracle.yaml", tmp_path / "p")
    s = Scene.load(tmp_path / "p" / "synthetic-1-00001.json")  # from the JPEG
    assert s.source == "images" and s.image_path == "images/synthetic-1-00001.png"
    assert s.load_image().shape == (120, 160, 3)
    gt = Scene.load(oracle_env / "synthetic-1-00001.json")
    np.testing.assert_array_equal(s.load_depth(), gt.load_depth())
    ids = np.asarray(Image.open(tmp_path / "p" / s.metadata["instance_mask_path"])).astype(int) - 1
    for o in s.objects:
        assert (ids[o.mask.decode()] == o.id).mean() > 0.9


class HalfInvalid(OracleGeometry):
    """Oracle depth with the top 60 % of rows invalid."""

    def __call__(self, images):
        out = super().__call__(images)
        for r in out:
            r.valid[: int(0.6 * r.valid.shape[0])] = False
        return out


class FailsOn(OracleGeometry):
    calls: list[list[str]] = []

    def __call__(self, images):
        FailsOn.calls.append([i.id for i in images])
        if any(i.id == "synthetic-1-00001" for i in images):
            raise DataError("image 'synthetic-1-00001': backend cannot read it")
        return super().__call__(images)


class Buggy(OracleGeometry):
    def __call__(self, images):
        raise TypeError("a bug")


def test_bad_images_are_recorded_skips(oracle_env, image_folder, tmp_path, monkeypatch):
    (image_folder / "broken.png").write_bytes(b"\x89PNG not really")
    noise_image(image_folder / "tiny.png", size=(20, 20))
    Image.new("RGB", (160, 120), (0, 0, 0)).save(image_folder / "black.png")
    noise_image(image_folder / "stranger.png")  # no ground truth: the oracle backend raises DataError
    Image.new("RGB", (160, 120)).save(image_folder / "synthetic-1-00000.tif")  # same id as the PNG
    monkeypatch.setitem(BACKENDS["geometry"], "fails_on", FailsOn)
    cfg = _oracle(oracle_env, batch_size=8)
    cfg.stages["geometry"] = type(cfg.stages["geometry"])("fails_on", {"scenes": str(oracle_env)})
    m = perceive_folder(image_folder, cfg, tmp_path / "out")
    assert sorted(m.done) == ["synthetic-1-00000.png", "synthetic-1-00002.png"]
    s = m.skipped
    assert "unreadable image" in s["broken.png"]
    assert "smaller than 32 px" in s["tiny.png"]
    assert "100% of pixels are pure white or black" in s["black.png"]
    assert "no ground truth" in s["stranger.png"]
    assert "backend cannot read it" in s["synthetic-1-00001.jpg"]
    assert "duplicate image id 'synthetic-1-00000'" in s["synthetic-1-00000.tif"]
    assert FailsOn.calls[0] == ["stranger", "synthetic-1-00000", "synthetic-1-00001", "synthetic-1-00002"]
    assert len(FailsOn.calls) == 5  # the failed batch, then image by image
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["skipped"] == s


def test_filters_after_perception(oracle_env, image_folder, tmp_path, monkeypatch):
    m = perceive_folder(image_folder, _oracle(oracle_env, vocabulary=["piano"]), tmp_path / "a")
    assert not m.done and all("no detections" in r for r in m.skipped.values())
    m = perceive_folder(image_folder, _oracle(oracle_env, filter={"min_objects": 50}), tmp_path / "b")
    assert not m.done and all("objects with a 3D box (< 50)" in r for r in m.skipped.values())
    m = perceive_folder(image_folder, _oracle(oracle_env, postprocess={"min_mask_pixels": 10 ** 6}), tmp_path / "c")
    assert not m.done and all("no detection has a usable mask" in r for r in m.skipped.values())
    monkeypatch.setitem(BACKENDS["geometry"], "half_invalid", HalfInvalid)
    cfg = _oracle(oracle_env)
    cfg.stages["geometry"] = type(cfg.stages["geometry"])("half_invalid", {"scenes": str(oracle_env)})
    m = perceive_folder(image_folder, cfg, tmp_path / "d")
    assert not m.done and all("60% of pixels have no valid depth (> 50%)" in r for r in m.skipped.values())


def test_programming_errors_propagate(oracle_env, image_folder, tmp_path, monkeypatch):
    monkeypatch.setitem(BACKENDS["geometry"], "buggy", Buggy)
    cfg = _oracle(oracle_env)
    cfg.stages["geometry"] = type(cfg.stages["geometry"])("buggy", {"scenes": str(oracle_env)})
    with pytest.raises(TypeError, match="a bug"):
        perceive_folder(image_folder, cfg, tmp_path / "out")


def test_resume_and_config_change(oracle_env, image_folder, tmp_path, monkeypatch):
    FailsOn.calls = []
    monkeypatch.setitem(BACKENDS["geometry"], "fails_on", FailsOn)
    (image_folder / "synthetic-1-00001.jpg").unlink()  # FailsOn would refuse it
    cfg = _oracle(oracle_env)
    cfg.stages["geometry"] = type(cfg.stages["geometry"])("fails_on", {"scenes": str(oracle_env)})
    out = tmp_path / "out"
    assert len(perceive_folder(image_folder, cfg, out).done) == 2
    (out / "synthetic-1-00002.json").unlink()
    FailsOn.calls = []
    assert len(perceive_folder(image_folder, cfg, out).done) == 2
    assert FailsOn.calls == [["synthetic-1-00002"]]  # only the missing one is redone
    FailsOn.calls = []
    cfg2 = parse_config({**cfg.to_dict(), "batch_size": 1, "model_root": None})
    perceive_folder(image_folder, cfg2, out)
    assert FailsOn.calls == [["synthetic-1-00000"], ["synthetic-1-00002"]]  # new config: all redone


def test_cli_tiny_cpu(tiny_models, image_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("SPATIALFORGE_PERCEPTION_MODELS", str(tiny_models))
    r = CliRunner().invoke(app, ["generate", "--source", "images", "--images", str(image_folder), "--perception",
                                 str(CONFIGS / "tiny_cpu.yaml"), "--out", str(tmp_path / "ds"), "--qa-per-scene", "4"])
    assert r.exit_code == 0, r.output
    rows = _rows(tmp_path / "ds")
    assert len(rows) > 0 and set(rows.scene_id) <= {p.stem for p in image_folder.iterdir()}
    s = Scene.load(next((tmp_path / "ds" / "perceived").glob("synthetic-*.json")))
    stages = s.metadata["perception"]["stages"]
    assert stages["detection"]["backend"] == "owlv2" and stages["detection"]["library"].startswith("transformers ")
    assert stages["segmentation"]["model"] == str(tiny_models / "sam")
    r = CliRunner().invoke(app, ["perceive", str(image_folder), "--perception", str(CONFIGS / "tiny_cpu.yaml"),
                                 "--out", str(tmp_path / "scenes")])
    assert r.exit_code == 0, r.output
    assert "perceived 3 images, skipped 0" in r.output


def test_cli_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("SPATIALFORGE_ORACLE_SCENES", raising=False)
    r = CliRunner().invoke(app, ["generate", "--source", "images", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "--images DIR and --perception CONFIG" in r.output
    r = CliRunner().invoke(app, ["perceive", str(tmp_path), "--perception", str(CONFIGS / "oracle.yaml"),
                                 "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "SPATIALFORGE_ORACLE_SCENES is not set" in r.output


def test_quality_oracle_and_noisy(oracle_env, image_folder, tmp_path):
    from spatialforge.perception.quality import folder_quality

    perceive_folder(image_folder, CONFIGS / "oracle.yaml", tmp_path / "exact")
    q = folder_quality(tmp_path / "exact", oracle_env).summary()
    assert q["scenes"] == 3 and q["abs_rel"] == 0.0 and q["delta1"] == 1.0 and q["precision"] == 1.0
    assert 0.5 < q["recall"] <= 1.0 and q["centre_m"] < 0.2
    scaled = _oracle(oracle_env)
    scaled.stages["geometry"] = type(scaled.stages["geometry"])("noisy_oracle", {"scenes": str(oracle_env),
                                                                               "depth_scale": 1.3, "depth_noise": 0.0})
    perceive_folder(image_folder, scaled, tmp_path / "scaled")
    s = folder_quality(tmp_path / "scaled", oracle_env).summary()
    assert s["abs_rel"] == pytest.approx(0.3, abs=1e-5) and s["delta1"] == 0.0  # 1.3 >= 1.25 everywhere
    assert s["centre_m"] > q["centre_m"]
    (tmp_path / "exact" / "synthetic-1-00000.json").unlink()  # a skipped image misses its objects
    assert folder_quality(tmp_path / "exact", oracle_env).summary()["recall"] < q["recall"]


def test_photo_filter_stage_rejects_with_reason(oracle_env, image_folder, tiny_models, tmp_path):
    from spatialforge.perception.base import ImageItem, backend_class
    from spatialforge.perception.hf import photo_vote
    from spatialforge.sources.image_files import load_rgb

    kw = {"model": str(tiny_models / "clip"), "include": ["a photo", "a room"],
          "exclude": ["a chart", "a screenshot", "text"], "top_k": 3}
    raw = _oracle(oracle_env).to_dict()
    raw["stages"]["photo_filter"] = {"backend": "clip", "kwargs": kw}
    m = perceive_folder(image_folder, parse_config(raw), tmp_path / "out")
    f = backend_class("photo_filter", "clip")(**kw)
    for p in sorted(image_folder.iterdir()):
        reason = photo_vote(f.top_tags([ImageItem(p.stem, load_rgb(p))])[0], f.include)
        if reason is None:
            assert p.name in m.done
        else:
            assert m.skipped[p.name] == f"image {p.stem!r}: {reason}"
    assert m.skipped  # the random tiny CLIP rejects at least one rendered image


def test_generate_lists_perception_skips_of_this_run(oracle_env, image_folder, tmp_path):
    (image_folder / "broken.png").write_bytes(b"junk")
    m = generate_from_images(image_folder, CONFIGS / "oracle.yaml", tmp_path / "ds", qa_per_scene=4)
    assert "unreadable image" in m.skipped["perceive/broken.png"]
    assert m.stats["perceive"]["images_done"] == 3 and m.stats["num_records"] > 0
    (image_folder / "broken.png").unlink()
    m = generate_from_images(image_folder, CONFIGS / "oracle.yaml", tmp_path / "ds", qa_per_scene=4)
    assert not [k for k in m.skipped if k.startswith("perceive/")]


def test_ray_without_ray_names_the_extra(oracle_env, image_folder, tmp_path, monkeypatch):
    import sys

    from spatialforge.extras import MissingExtraError

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'spatialforge\[ray\]'"):
        perceive_folder(image_folder, CONFIGS / "oracle.yaml", tmp_path / "out", use_ray=True)
