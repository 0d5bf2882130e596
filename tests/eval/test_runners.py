"""Runners (transformers on tiny models, OpenAI against a real local HTTP server), the
prediction cache and resumable runs."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import logging

import pytest
from PIL import Image

from spatialforge.eval.predictions import PredictionCache, run_requests
from spatialforge.eval.runners import RUNNERS, GenerationError, GenRequest, Runner, make_runner
from tests.fixtures_http import down_url, fake_openai, last_user_text  # noqa: F401
from tests.fixtures_models import make_image, tiny_paligemma_path, tiny_qwen_path  # noqa: F401

KEY = "sk-test-SECRET-7f3a9c"


def _requests(n: int = 3) -> list[GenRequest]:
    prompts = ["How far?", "Is the red lamp to the left of the blue sofa in this small room? Answer yes or no.",
               "What is the height of the wooden cabinet next to the door, in centimeters?"]  # fmt: skip
    return [GenRequest(f"q{i}", prompts[i % 3], [make_image(i, (56 + 28 * (i % 2), 56))]) for i in range(n)]


class Counting:
    """Wraps a runner and counts the requests that reach it."""

    def __init__(self, inner: Runner, fail_on_call: int | None = None):
        self.inner, self.name, self.seen, self.calls, self.fail_on_call = inner, inner.name, [], 0, fail_on_call

    def generate(self, requests, *, max_new_tokens, temperature=0.0):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt  # a run killed mid-way
        self.seen += [r.id for r in requests]
        return self.inner.generate(requests, max_new_tokens=max_new_tokens, temperature=temperature)


@pytest.fixture(scope="module")
def qwen_runner(tiny_qwen_path):
    return make_runner("transformers", tiny_qwen_path)


def test_registry():
    assert {"transformers", "vllm", "openai"} <= set(RUNNERS)
    with pytest.raises(KeyError, match="openai, transformers, vllm"):
        make_runner("tensorrt", "x")


@pytest.mark.parametrize("fixture", ["tiny_qwen_path", "tiny_paligemma_path"])
def test_transformers_batched_matches_unbatched(fixture, request):
    runner = make_runner("transformers", request.getfixturevalue(fixture))
    reqs = _requests(3)
    batched = runner.generate(reqs, max_new_tokens=10)
    single = [runner.generate([r], max_new_tokens=10)[0] for r in reqs]
    assert batched == single
    assert len(set(batched)) > 1  # the prompts and images differ, so do the outputs
    assert runner.generate(reqs, max_new_tokens=10) == batched  # greedy is deterministic


def test_transformers_runner_options(qwen_runner, tiny_qwen_path):
    reqs = _requests(2) + [GenRequest("text-only", "Describe the room.")]  # mixed batch: with and without images
    out = qwen_runner.generate(reqs, max_new_tokens=6)
    assert len(out) == 3 and out[:2] == qwen_runner.generate(reqs[:2], max_new_tokens=6)
    sampled = qwen_runner.generate(reqs[:2], max_new_tokens=6, temperature=1.0)
    assert sampled == qwen_runner.generate(reqs[:2], max_new_tokens=6, temperature=1.0)  # seeded
    assert isinstance(qwen_runner, Runner)
    loaded = make_runner("transformers", qwen_runner.model, processor=qwen_runner.processor, dtype="bfloat16")
    assert loaded.model.dtype.is_floating_point and len(loaded.generate(reqs[:1], max_new_tokens=3)) == 1


def test_run_requests_resumes_from_cache(qwen_runner, tmp_path):
    reqs = _requests(5)
    cache = PredictionCache.for_run(tmp_path, qwen_runner.name, "unit-bench", "think")
    assert cache.path.parent.parent.parent == tmp_path and cache.path.name == "think.jsonl"

    killed = Counting(qwen_runner, fail_on_call=2)
    with pytest.raises(KeyboardInterrupt):
        run_requests(killed, reqs, cache, batch_size=2, progress=False, max_new_tokens=5)
    assert killed.seen == ["q0", "q1"] and len(PredictionCache(cache.path)) == 2  # first batch kept

    resumed = Counting(qwen_runner)
    res = run_requests(resumed, reqs, PredictionCache(cache.path), batch_size=2, progress=True, max_new_tokens=5)
    assert resumed.seen == ["q2", "q3", "q4"]
    assert (res.generated, res.from_cache, res.n_failed) == (3, 2, 0)
    assert list(res.outputs) == [r.id for r in reqs]

    again = Counting(qwen_runner)
    res2 = run_requests(again, reqs, PredictionCache(cache.path), batch_size=2, progress=False, max_new_tokens=5)
    assert again.calls == 0 and res2.generated == 0 and res2.outputs == res.outputs

    lines = cache.path.read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == [r.id for r in reqs]  # no duplicates
    # Same outputs as a fresh, uncached run.
    assert run_requests(qwen_runner, reqs, None, batch_size=5, progress=False, max_new_tokens=5).outputs == res.outputs


def test_prediction_cache_survives_a_torn_line(tmp_path):
    path = tmp_path / "preds.jsonl"
    cache = PredictionCache(path)
    assert cache.add_many([("a", "1"), ("b", "two\nlines ünï"), ("a", "dup")]) == 2
    with open(path, "a") as f:
        f.write('{"id": "c", "outp')  # killed mid-write
    reopened = PredictionCache(path)
    assert reopened.outputs == {"a": "1", "b": "two\nlines ünï"}
    reopened.add("c", "3")
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()] == ["a", "b", "c"]


def test_run_requests_rejects_duplicate_ids(qwen_runner):
    with pytest.raises(ValueError, match="duplicate request id 'x'"):
        run_requests(qwen_runner, [GenRequest("x", "a"), GenRequest("x", "b")], None, progress=False)


def test_openai_runner_sends_images_and_key(fake_openai, tmp_path, caplog):
    fake_openai.fail_first, fake_openai.fail_status = 2, 429  # retried with backoff
    runner = make_runner("openai", "served-model", base_url=fake_openai.base_url, api_key=KEY, backoff=0.01, max_workers=1)
    caplog.set_level(logging.DEBUG)
    reqs = _requests(2)
    cache = PredictionCache.for_run(tmp_path, runner.name, "bench", "plain")
    res = run_requests(runner, reqs, cache, batch_size=2, progress=False, max_new_tokens=7)
    assert res.outputs == {r.id: f"echo: {r.prompt}" for r in reqs} and res.n_failed == 0
    assert fake_openai.n_requests == 4

    sent = fake_openai.requests[-1]
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    body = sent["json"]
    assert body["model"] == "served-model" and body["max_tokens"] == 7 and body["temperature"] == 0.0
    image_part, text_part = body["messages"][-1]["content"]
    assert text_part == {"type": "text", "text": reqs[1].prompt}
    url = image_part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.tobytes() == reqs[1].images[0].tobytes()  # lossless

    assert "429" in caplog.text  # the retries were logged ...
    assert KEY not in caplog.text and KEY not in repr(runner)  # ... without the key
    assert KEY not in cache.path.read_text()


def test_openai_runner_key_from_env_and_redacted_errors(fake_openai, monkeypatch):
    monkeypatch.delenv("SPATIALFORGE_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    fake_openai.fail_first, fake_openai.fail_status, fake_openai.echo_key_in_errors = 1, 401, True
    runner = make_runner("openai", "m", base_url=fake_openai.base_url, backoff=0.01)
    with pytest.raises(GenerationError) as e:
        runner.generate([GenRequest("a", "hi")], max_new_tokens=3)
    assert fake_openai.n_requests == 1  # 401 is not retried
    assert "HTTP 401" in str(e.value) and "***" in e.value.errors[0] and KEY not in str(e.value.errors)
    assert fake_openai.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"


def test_openai_runner_down_endpoint_counts_failures(down_url, tmp_path):
    runner = make_runner("openai", "m", base_url=down_url, api_key=KEY, max_retries=2, backoff=0.01)
    cache = PredictionCache(tmp_path / "p.jsonl")
    res = run_requests(runner, _requests(3), cache, batch_size=2, progress=False)
    assert res.n_failed == 3 and res.outputs == {} and len(cache) == 0
    # 3 connection failures in a row open the circuit breaker: the rest are not even sent
    assert all("circuit open" in reason for reason in res.failed.values())
    assert runner.client.breaker.failures >= 3 and runner.client.breaker.rejected >= 1


def test_openai_runner_retries_timeouts(fake_openai):
    fake_openai.stall_first, fake_openai.stall_s = 1, 1.0
    runner = make_runner("openai", "m", base_url=fake_openai.base_url, timeout=0.3, backoff=0.01)
    assert runner.generate([GenRequest("a", "hi")], max_new_tokens=3) == ["echo: hi"]
    assert fake_openai.n_requests == 2


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM installed: the error path is moot")
def test_vllm_runner_missing_dependency_is_explained():
    with pytest.raises(ImportError, match="pip install 'spatialforge\\[vllm\\]'"):
        make_runner("vllm", "Qwen/Qwen2.5-VL-3B-Instruct")
