"""Degenerate inputs: empty and one-object scenes, bad boxes, objects out of view, no depth;
the optional LLM writer."""

from __future__ import annotations

import json
import re
import logging

import pytest

from taskscenes import camera, obj, rich_scene, write_depth
from spatialforge.scene import Scene
from spatialforge.tasks import TASKS, generate_qa
from spatialforge.tasks.llm import LLMWriterConfig, rewrite_record
from tests.fixtures_http import fake_openai  # noqa: F401

F = -1.4


def _scene(*objects, depth=None, root=None, sid="deg"):
    return Scene(sid, "i.png", camera(10.0), tuple(objects), depth_path=depth, root=root)


def test_empty_scene_without_depth_yields_nothing_with_reasons():
    res = generate_qa(_scene(), seed=0, qa_per_scene=10)
    assert res.records == []
    skipped = dict(res.skipped)
    assert set(skipped) == {f"deg/{t}" for t in TASKS}
    assert "depth" in skipped["deg/point_query"] and "no objects" in skipped["deg/size"]


def test_empty_scene_with_depth_asks_pixel_questions_only(tmp_path):
    scene = _scene(depth=write_depth(tmp_path), root=str(tmp_path))
    res = generate_qa(scene, seed=0, qa_per_scene=40, mirror=True)
    assert res.records and {r.task for r in res.records} == {"point_query", "depth_order"}
    assert {r.level for r in res.records} == {0}


def test_one_object_scene_supports_single_object_tasks():
    chair = obj(0, "chair", (0.3, 3.0, F + 0.45), (0.5, 0.9, 0.5), color="red", front=(0.0, -1.0, 0.0))
    res = generate_qa(_scene(chair), seed=1, qa_per_scene=40)
    tasks = {r.task for r in res.records}
    assert tasks <= {"orientation", "size", "localization", "distance", "problem_solving"}
    assert {"orientation", "size", "localization", "distance"} <= tasks
    assert all(r.meta["sub"] in ("to_camera", "around") for r in res.records
               if r.task in ("distance", "problem_solving"))
    skipped = dict(res.skipped)
    for t in ("direction", "comparison", "perspective", "counting"):
        assert f"deg/{t}" in skipped, t
    assert "2" in skipped["deg/direction"]


def test_degenerate_and_invisible_objects_are_skipped():
    good = [obj(0, "chair", (0.3, 3.0, F + 0.45), (0.5, 0.9, 0.5)),
            obj(1, "table", (-0.8, 3.5, F + 0.37), (1.2, 0.74, 0.7))]
    bad = [obj(2, "box", (0.0, 2.5, F + 0.2), (0.001, 0.4, 0.4)),  # degenerate box
           obj(3, "lamp", (0.0, -2.0, 0.0), (0.4, 1.5, 0.4)),  # behind the camera
           obj(4, "vase", (30.0, 3.0, 0.0), (0.2, 0.3, 0.2))]  # far outside the image
    res = generate_qa(_scene(*good, *bad), seed=0, qa_per_scene=60)
    skipped = dict(res.skipped)
    assert "degenerate 3D box" in skipped["deg/object-2"]
    assert "behind" in skipped["deg/object-3"]
    assert "outside the image" in skipped["deg/object-4"]
    assert res.records
    for r in res.records:
        assert set(r.object_ids) <= {0, 1}
        assert not re.search(r"\bthe (box|lamp|vase)\b", r.question)


def test_zero_questions_and_ratio_selection():
    scene = rich_scene()
    assert generate_qa(scene, seed=0, qa_per_scene=0).records == []
    only = generate_qa(scene, seed=0, qa_per_scene=15, ratios={t: 0.0 for t in TASKS} | {"size": 1.0})
    assert only.records and {r.task for r in only.records} == {"size"}
    sub = generate_qa(scene, seed=0, qa_per_scene=15, tasks=["distance", "counting"], formats=("tf",))
    assert {r.task for r in sub.records} <= {"distance", "counting"} and {r.format for r in sub.records} == {"tf"}


def test_unreadable_depth_is_a_reason_not_a_crash(tmp_path):
    scene = _scene(obj(0, "chair", (0.3, 3.0, F + 0.45), (0.5, 0.9, 0.5)), depth="missing.npy", root=str(tmp_path))
    res = generate_qa(scene, seed=0, qa_per_scene=10, tasks=["point_query", "size"])
    assert {r.task for r in res.records} == {"size"}
    assert "depth map unusable" in dict(res.skipped)["deg/point_query"]


# ---------------------------------------------------------------------- LLM writer (off by default)
def _problem_record():
    scene = rich_scene()
    res = generate_qa(scene, seed=0, qa_per_scene=40, tasks=["problem_solving"], formats=("free",))
    return res.records[0], scene


def test_llm_writer_is_off_by_default_and_checked(monkeypatch, caplog, fake_openai):
    rec, scene = _problem_record()
    from spatialforge.tasks import get_view

    v = get_view(scene)
    refs = [v.ref_text[v.idx(o)] for o in rec.object_ids]
    fake_openai.responder = lambda payload: json.dumps({"question": "Quick one: " + rec.question,
                                                        "reasoning": "step 1"})
    assert rewrite_record(rec, refs, LLMWriterConfig()) is rec and not fake_openai.requests
    monkeypatch.setenv("SF_TEST_KEY", "sk-secret-123")
    cfg = LLMWriterConfig(enabled=True, base_url=fake_openai.base_url, api_key_env="SF_TEST_KEY")
    with caplog.at_level(logging.DEBUG):
        out = rewrite_record(rec, refs, cfg)
    assert out.question.startswith("Quick one: ") and out.answer == rec.answer
    assert out.answer_struct == rec.answer_struct and out.meta["llm_rewritten"]
    assert fake_openai.requests[0]["path"] == "/v1/chat/completions"
    assert fake_openai.requests[0]["headers"]["Authorization"] == "Bearer sk-secret-123"
    assert "sk-secret-123" not in caplog.text and "sk-secret-123" not in json.dumps(out.to_row())

    fake_openai.responder = lambda payload: json.dumps({"question": "How far is it?"})  # loses a reference
    assert rewrite_record(rec, refs, cfg) is rec
    fake_openai.fail_first, fake_openai.fail_status, fake_openai.echo_key_in_errors = 10, 401, True
    errors: list[str] = []
    assert rewrite_record(rec, refs, cfg, errors=errors) is rec  # a failed request keeps the record
    assert len(errors) == 1 and "401" in errors[0] and "sk-secret-123" not in errors[0]
    monkeypatch.delenv("SF_TEST_KEY")
    with pytest.raises(RuntimeError, match="SF_TEST_KEY") as e:
        rewrite_record(rec, refs, cfg)
    assert "sk-" not in str(e.value)


def test_point_map_z_serves_as_depth(tmp_path):
    import numpy as np

    pm = np.zeros((480, 640, 3), np.float32)
    pm[..., 2] = 2.5
    np.save(tmp_path / "pm.npy", pm)
    scene = Scene("pm", "i.png", camera(0.0), (), point_map_path="pm.npy", root=str(tmp_path))
    res = generate_qa(scene, seed=0, qa_per_scene=5, tasks=["point_query"], formats=("free",))
    assert len(res.records) == 5
    assert all(r.answer_struct["value"][2] == 2.5 for r in res.records)
