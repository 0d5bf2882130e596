"""The Ray Data path (``--ray``): the same bytes as the in-process path, skips recorded the
same way, and a killed run resumes without duplicates.  One local Ray session (2 CPUs) for
the module; each test runs as few Ray datasets as it can (actor start-up dominates)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from spatialforge.cli import app
from spatialforge.datasets.parquet import shard_paths
from spatialforge.perception.base import BACKENDS
from spatialforge.perception.config import load_config, parse_config
from spatialforge.perception.oracle import OracleGeometry
from spatialforge.sources import images as images_source
from spatialforge.sources.images import generate_from_images, perceive_folder

from perception_helpers import CONFIGS, noise_image

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def ray_session():
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # BatchSized: this module is not importable there
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


class BatchSized(OracleGeometry):
    """Oracle depth scaled by 1 + 1 % per image in the batch: batches that differ from the
    in-process ones give other bytes."""

    def __call__(self, images):
        out = super().__call__(images)  # DataError for an image without ground truth
        for g in out:
            g.depth, g.points = g.depth * (1 + 0.01 * len(images)), g.points * (1 + 0.01 * len(images))
        return out


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def dataset_bytes(out: Path) -> dict[str, bytes]:
    """Scene JSONs and files, shards and manifests, with the output folder's own path masked."""
    return {k: v.replace(str(out).encode(), b"OUT") for k, v in files_of(out).items()}


def test_oracle_killed_ray_run_resumes_to_in_process_bytes(oracle_env, image_folder, tmp_path, monkeypatch):
    """Ray's batches are the in-process batches; bad images and a backend failing on a worker
    are recorded skips as in-process; a Ray run killed in its second batch, rerun, gives the
    in-process run's bytes (no duplicates)."""
    (image_folder / "broken.png").write_bytes(b"\x89PNG not really")
    Image.new("RGB", (160, 120), (0, 0, 0)).save(image_folder / "black.png")
    noise_image(image_folder / "unknown.png")  # no ground truth: the backend raises DataError on a worker
    monkeypatch.setitem(BACKENDS["geometry"], "batch_sized", BatchSized)
    raw = load_config(CONFIGS / "oracle.yaml").to_dict()
    raw["stages"]["geometry"]["backend"] = "batch_sized"
    cfg = parse_config({**raw, "batch_size": 2})  # batches: [00000, 00001], [00002, unknown]
    ref = generate_from_images(image_folder, cfg, tmp_path / "ref", qa_per_scene=6, seed=2)
    write = images_source._write_scene

    def killed_in_second_batch(out, scene, *a):
        if scene.id == "synthetic-1-00002":
            raise KeyboardInterrupt
        write(out, scene, *a)

    monkeypatch.setattr(images_source, "_write_scene", killed_in_second_batch)
    with pytest.raises(KeyboardInterrupt):
        generate_from_images(image_folder, cfg, tmp_path / "ray", qa_per_scene=6, seed=2, use_ray=True, ray_workers=2)
    partial = json.loads((tmp_path / "ray" / "perceived" / "manifest.json").read_text())
    assert partial["done"] == ["synthetic-1-00000.png", "synthetic-1-00001.jpg"]
    monkeypatch.setattr(images_source, "_write_scene", write)
    m = generate_from_images(image_folder, cfg, tmp_path / "ray", qa_per_scene=6, seed=2, use_ray=True, ray_workers=2)
    assert sorted(k for k in m.skipped if k.startswith("perceive/")) == [
        "perceive/black.png", "perceive/broken.png", "perceive/unknown.png"]
    assert "no ground truth" in m.skipped["perceive/unknown.png"]
    assert m.stats["num_records"] == ref.stats["num_records"] > 0
    a, b = dataset_bytes(tmp_path / "ref"), dataset_bytes(tmp_path / "ray")
    assert sorted(k for k in a if k.endswith(".json")) == [  # three scenes, perceived and imported; two manifests
        "manifest.json", "perceived/manifest.json", *(f"{d}/synthetic-1-0000{i}.json" for d in ("perceived", "scenes")
                                                      for i in range(3))]
    assert len(shard_paths(tmp_path / "ray")) >= 1
    assert a == b


def test_tiny_cpu_ray_equals_in_process_cli(tiny_models, image_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("SPATIALFORGE_PERCEPTION_MODELS", str(tiny_models))
    perceive_folder(image_folder, CONFIGS / "tiny_cpu.yaml", tmp_path / "local")
    r = CliRunner().invoke(app, ["perceive", str(image_folder), "--perception", str(CONFIGS / "tiny_cpu.yaml"),
                                 "--out", str(tmp_path / "ray"), "--ray", "--ray-workers", "1"])
    assert r.exit_code == 0, r.output
    a, b = files_of(tmp_path / "local"), files_of(tmp_path / "ray")
    assert sum(k.endswith(".json") for k in a) == 4 and a == b  # three scenes and the manifest


def test_verified_references_on_ray_equal_in_process(oracle_env, image_folder, tmp_path):
    """The reference verifier (HiSpatial 7.1) runs on the driver on both paths: same scenes,
    and the check is really there (a verified phrase per scene)."""
    from test_perception_verify import _oracle_raw

    cfg = parse_config(_oracle_raw(oracle_env))
    perceive_folder(image_folder, cfg, tmp_path / "local")
    perceive_folder(image_folder, cfg, tmp_path / "ray", use_ray=True, ray_workers=1)
    a, b = files_of(tmp_path / "local"), files_of(tmp_path / "ray")
    scenes = [json.loads(v) for k, v in a.items() if k.endswith(".json") and k != "manifest.json"]
    assert scenes and all(s["metadata"]["reference_check"]["verified"] for s in scenes)
    assert a == b
