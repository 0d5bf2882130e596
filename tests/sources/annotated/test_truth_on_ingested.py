"""``generate`` on ingested scenes (all four formats) passes the independent truth test the synthetic source
passes (tests/tasks/test_independent_truth.py): every answer recomputed from the stored scene."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from spatialforge.scene import Scene
from spatialforge.sources.annotated import ingest
from spatialforge.tasks import TASKS, generate_qa
from tests.sources.annotated.writers import write_arkitscenes, write_ca1m, write_omni3d, write_scannet

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tasks"))  # its `taskscenes` import
from tests.tasks.test_independent_truth import (Geo, check_highlights, clearly_wrong, matches,  # noqa: E402
                                                parse_length, parse_point, truth_of)


class ViewGeo(Geo):
    """``Geo`` with tasks/view.py's in-view rule: the centre projects into the image *or* the
    2D box overlaps it.  test_independent_truth's ``Geo.in_view`` checks the centre only, so it
    miscounts a truncated object whose centre is just outside the image; that happens on the
    synthetic source too (scene synthetic-5-00000 at 160x120, counting, seed 0), independently
    of ingestion, and is reported rather than fixed here."""

    def in_view(self, oid):
        if super().in_view(oid):
            return True
        c, cam, b = self.cam(oid), self.scene.camera, self.obj[oid].box2d
        return c[2] > 0.1 and b is not None and b[2] > 0 and b[0] < cam.width and b[3] > 0 and b[1] < cam.height \
            and b[2] > b[0] and b[3] > b[1]


def _check(scene, rec, g):
    kind, truth = truth_of(rec, g)
    check_highlights(rec, g)
    st, m = rec.answer_struct, rec.meta
    where = f"{rec.id} {rec.task}/{m['sub']}/{rec.format}: {rec.question!r} -> {rec.answer!r}"
    if rec.format == "free":
        if kind == "object":
            assert m["answer_object_id"] == truth, where
        else:
            assert matches(kind, truth, {**st, "object_ids": st.get("object_ids")}), where
        if kind in ("length", "clearance"):
            val, tol = parse_length(rec.answer)
            assert abs(val - truth) <= tol + 1e-9, where
        if kind == "point3d":
            val, tol = parse_point(rec.answer)
            assert all(abs(a - b) <= tol + 1e-9 for a, b in zip(val, truth)), where
    elif rec.format == "mcq":
        k = "ABCD".index(st["value"])
        assert matches(kind, truth, m["options"][k]), where
        assert all(clearly_wrong(kind, truth, o) for j, o in enumerate(m["options"]) if j != k), where
    else:
        claim_true = bool(matches(kind, truth, m["claim"]))
        assert st["value"] is claim_true, where


def test_answers_on_ingested_scenes_are_true(samples, tmp_path):
    ingest("omni3d", write_omni3d(samples, tmp_path / "o"), tmp_path / "s")
    ingest("ca1m", write_ca1m(samples, tmp_path / "c"), tmp_path / "s")
    write_arkitscenes(samples, tmp_path / "a")
    ingest("arkitscenes", tmp_path / "a", tmp_path / "s2")
    write_scannet(samples, tmp_path / "n")
    ingest("scannet", tmp_path / "n", tmp_path / "s3")
    scenes = [Scene.load(p) for d in ("s", "s2", "s3") for p in sorted((tmp_path / d).glob("*-*.json"))]
    assert len(scenes) == 4 * len(samples)
    seen = Counter()
    for s in scenes:
        res = generate_qa(s, seed=7, qa_per_scene=16, ratios={t: 1.0 for t in TASKS}, mirror=True)
        for rec in res.records:
            _check(s, rec, ViewGeo(s.mirrored() if rec.view == "mirrored" else s))
            seen[rec.task] += 1
    assert sum(seen.values()) >= 60 and len(seen) >= 5, seen
