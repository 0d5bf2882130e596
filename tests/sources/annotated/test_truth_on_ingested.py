"""``generate`` on ingested scenes (all five formats) passes the independent truth test the synthetic source
passes (tests/tasks/test_independent_truth.py): every answer recomputed from the stored scene."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from spatialforge.scene import Scene
from spatialforge.sources.annotated import ingest
from spatialforge.tasks import TASKS, generate_qa
from tests.sources.annotated.writers import write_arkitscenes, write_ca1m, write_hypersim, write_omni3d, write_scannet

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tasks"))  # its `taskscenes` import
from tests.tasks.test_independent_truth import Geo, check_record  # noqa: E402


def test_answers_on_ingested_scenes_are_true(samples, tmp_path):
    ingest("omni3d", write_omni3d(samples, tmp_path / "o"), tmp_path / "s")
    ingest("ca1m", write_ca1m(samples, tmp_path / "c"), tmp_path / "s")
    write_arkitscenes(samples, tmp_path / "a")
    ingest("arkitscenes", tmp_path / "a", tmp_path / "s2")
    write_scannet(samples, tmp_path / "n")
    ingest("scannet", tmp_path / "n", tmp_path / "s3")
    write_hypersim(samples, tmp_path / "h")
    ingest("hypersim", tmp_path / "h", tmp_path / "s4")
    scenes = [Scene.load(p) for d in ("s", "s2", "s3", "s4") for p in sorted((tmp_path / d).glob("*-*.json"))]
    assert len(scenes) == 5 * len(samples)
    seen = Counter()
    for s in scenes:
        res = generate_qa(s, seed=7, qa_per_scene=16, ratios={t: 1.0 for t in TASKS}, mirror=True)
        for rec in res.records:
            check_record(rec, Geo(s.mirrored() if rec.view == "mirrored" else s))
            seen[rec.task] += 1
    assert sum(seen.values()) >= 60 and len(seen) >= 5, seen
