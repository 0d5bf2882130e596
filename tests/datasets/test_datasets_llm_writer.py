"""The optional LLM writer inside ``generate_dataset``, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from spatialforge.cli import app
from spatialforge.datasets import generate_dataset, iter_rows, load_records
from spatialforge.files import write_image
from spatialforge.scene import Scene
from spatialforge.tasks.llm import LLMWriterConfig
from tests.fixtures_http import down_url, fake_openai, last_user_text  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
from taskscenes import rich_scene  # noqa: E402

KEY = "sk-test-SECRET-8c1f0e"
ENV = "SF_LLM_WRITER_TEST_KEY"
GEN = {"tasks": ["problem_solving"], "formats": ("free",), "qa_per_scene": 4}


@pytest.fixture
def rich_folder(tmp_path) -> Path:
    folder = tmp_path / "scenes_src"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(2):
        sid = f"rich{k}"
        write_image(folder / f"{sid}.png", rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
        d = rich_scene(None, scene_id=sid).to_dict()
        d["image_path"] = f"{sid}.png"
        Scene.from_dict(d).save(folder / f"{sid}.json")
    return folder


def _rewriter(payload) -> str:
    text = last_user_text(payload)
    question = text.split("QUESTION: ", 1)[1].split("\nREFERENCES:", 1)[0]
    return json.dumps({"question": "LLM says: " + question, "reasoning": "LLM reasoning steps"})


def _all_text(out: Path) -> str:
    parts = [(out / "manifest.json").read_text()]
    for row in iter_rows(out):
        parts.append(json.dumps({k: v for k, v in row.items() if k != "image"}, default=str))
    parts += [p.read_bytes().decode("latin-1") for p in (out / "data").glob("*.parquet")]
    return "\n".join(parts)


def test_rewritten_text_lands_in_shards(tmp_path, rich_folder, fake_openai, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    fake_openai.responder = _rewriter
    cfg = LLMWriterConfig(enabled=True, base_url=fake_openai.base_url, model="writer-1", api_key_env=ENV)
    out = tmp_path / "ds"
    m = generate_dataset(out, source="folder", scenes_dir=rich_folder, mirror=True, llm_writer=cfg, **GEN)
    recs = load_records(out)
    assert recs and all(r.task == "problem_solving" for r in recs)
    assert fake_openai.n_requests == len(recs)  # every free problem-solving record, both views
    assert all(r.question.startswith("LLM says: ") and r.reasoning == "LLM reasoning steps" for r in recs)
    assert all(r.meta["llm_rewritten"] and r.meta["llm_model"] == "writer-1" for r in recs)
    assert all(not r.meta["template_question"].startswith("LLM says") for r in recs)
    assert fake_openai.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"
    assert m.stats["llm_writer"] == {"rewritten": len(recs), "failed": 0}
    assert not any(k.endswith("/llm_writer") for k in m.skipped)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["params"]["llm_writer"]["model"] == "writer-1"
    assert KEY not in _all_text(out)


def test_down_server_keeps_template_records_and_logs(tmp_path, rich_folder, down_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv(ENV, KEY)
    plain = generate_dataset(tmp_path / "plain", source="folder", scenes_dir=rich_folder, **GEN)
    cfg = LLMWriterConfig(enabled=True, base_url=down_url, model="writer-1", api_key_env=ENV, timeout_s=2)
    out = tmp_path / "ds"
    m = generate_dataset(out, source="folder", scenes_dir=rich_folder, llm_writer=cfg, **GEN)
    recs = load_records(out)
    assert [r.question for r in recs] == [r.question for r in load_records(tmp_path / "plain")]
    assert plain.stats["num_records"] == m.stats["num_records"] == len(recs) > 0
    notes = {k: v for k, v in m.skipped.items() if k.endswith("/llm_writer")}
    assert len(notes) == len(recs) and m.stats["llm_writer"] == {"rewritten": 0, "failed": len(recs)}
    assert all("kept the template question" in v for v in notes.values())
    assert any("Connection refused" in v or "URLError" in v for v in notes.values())
    assert KEY not in _all_text(out)


def test_http_errors_echoing_the_key_are_scrubbed(tmp_path, rich_folder, fake_openai, monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    fake_openai.fail_first, fake_openai.fail_status, fake_openai.echo_key_in_errors = 1, 401, True
    fake_openai.responder = _rewriter
    cfg = LLMWriterConfig(enabled=True, base_url=fake_openai.base_url, model="writer-1", api_key_env=ENV)
    out = tmp_path / "ds"
    m = generate_dataset(out, source="folder", scenes_dir=rich_folder, llm_writer=cfg, **GEN)
    recs = load_records(out)
    assert m.stats["llm_writer"] == {"rewritten": len(recs) - 1, "failed": 1}
    (reason,) = [v for k, v in m.skipped.items() if k.endswith("/llm_writer")]
    assert "401" in reason
    assert KEY not in _all_text(out)


def test_missing_key_does_not_crash(tmp_path, rich_folder, fake_openai, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    cfg = LLMWriterConfig(enabled=True, base_url=fake_openai.base_url, api_key_env=ENV)
    m = generate_dataset(tmp_path / "ds", source="folder", scenes_dir=rich_folder, llm_writer=cfg, **GEN)
    assert m.stats["num_records"] > 0 and fake_openai.n_requests == 0
    assert any(ENV in v for k, v in m.skipped.items() if k.endswith("/llm_writer"))


def test_cli_llm_flags(tmp_path, rich_folder, fake_openai, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    fake_openai.responder = _rewriter
    out = tmp_path / "ds"
    res = CliRunner().invoke(app, ["generate", "--source", "folder", "--scenes", str(rich_folder), "--out", str(out),
                                   "--tasks", "problem_solving", "--qa-per-scene", "6",
                                   "--llm-base-url", fake_openai.base_url, "--llm-model", "writer-2"])
    assert res.exit_code == 0, res.output
    free = [r for r in load_records(out) if r.format == "free"]
    assert free and all(r.question.startswith("LLM says: ") for r in free)
    assert fake_openai.requests[0]["json"]["model"] == "writer-2"
    assert KEY not in res.output and KEY not in _all_text(out)
