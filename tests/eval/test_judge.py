"""LLM judge against a real HTTP server on 127.0.0.1: prompts, parsing, cache, retries, failures."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest

from spatialforge.eval.judge import YES_NO_TEMPLATE, JudgeParseError, LLMJudge, parse_binary, parse_json_object
from tests.fixtures_http import down_url, fake_openai, last_user_text  # noqa: F401

KEY = "sk-judge-SECRET-b41d"


def _judge(base_url, tmp_path, **kw) -> LLMJudge:
    kw.setdefault("backoff", 0.01)
    return LLMJudge(base_url, "judge-model", api_key=KEY, cache_dir=tmp_path / "judge", **kw)


def test_yes_no_prompt_is_svqa_r1_appendix_b_verbatim():
    assert YES_NO_TEMPLATE == (
        "You are an evaluator. Given a Yes/No question, a ground-truth answer, and a predicted answer, determine "
        "whether the predicted answer means the same as the ground-truth answer.\n"
        "Predicted answer: {pred}, ground-truth answer: {gt}.\n"
        "Output only 0 or 1, where 0 indicates incorrect and 1 indicates correct."
    )


def test_yes_no_judgement_and_cache(fake_openai, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    fake_openai.responder = lambda p: "1" if "Indeed" in last_user_text(p) else "0"
    judge = _judge(fake_openai.base_url, tmp_path)
    r = judge.yes_no("Indeed, it is {left}.", "Yes")
    assert (r.ok, r.score, r.cached) == (True, 1.0, False)
    assert judge.yes_no("No way.", "Yes").score == 0.0
    sent = fake_openai.requests[0]
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"
    assert sent["json"]["temperature"] == 0.0 and "response_format" not in sent["json"]
    assert sent["json"]["messages"] == [{"role": "user", "content": (
        "You are an evaluator. Given a Yes/No question, a ground-truth answer, and a predicted answer, determine "
        "whether the predicted answer means the same as the ground-truth answer.\n"
        "Predicted answer: Indeed, it is {left}., ground-truth answer: Yes.\n"
        "Output only 0 or 1, where 0 indicates incorrect and 1 indicates correct.")}]  # fmt: skip

    # Same (model, prompt) again, even from a new judge object: served from disk, no HTTP call.
    again = _judge(fake_openai.base_url, tmp_path).yes_no("Indeed, it is {left}.", "Yes")
    assert (again.ok, again.score, again.cached) == (True, 1.0, True)
    assert fake_openai.n_requests == 2
    # Another judge model is another cache key.
    LLMJudge(fake_openai.base_url, "other-model", api_key=KEY, cache_dir=tmp_path / "judge").yes_no("Indeed", "Yes")
    assert fake_openai.n_requests == 3

    cache_text = "".join(p.read_text() for p in (tmp_path / "judge").rglob("*") if p.is_file())
    assert KEY not in cache_text and KEY not in caplog.text and KEY not in repr(judge)


def test_retries_then_succeeds(fake_openai, tmp_path, caplog):
    fake_openai.fail_first, fake_openai.fail_status = 3, 503
    fake_openai.responder = lambda p: '{"score": 1}'
    judge = _judge(fake_openai.base_url, tmp_path, max_retries=3)
    r = judge.qualitative("Is the cup left of the plate?", "Yes, it is.", "Indeed, the cup is on the left.")
    assert r.ok and r.score == 1.0
    assert fake_openai.n_requests == 4 and caplog.text.count("retry") == 3
    body = fake_openai.requests[-1]["json"]
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0] == {"role": "system", "content": "You are a helpful assistant designed to output JSON."}
    assert body["messages"][1]["content"].endswith(
        "Your Turn:\nQuestion: Is the cup left of the plate?\nAnswer: Yes, it is.\nResponse: Indeed, the cup is on the left.\n"
    )


def test_retry_after_header_is_honoured(fake_openai, tmp_path):
    fake_openai.fail_first, fake_openai.fail_status, fake_openai.retry_after = 1, 429, "0.2"
    fake_openai.responder = lambda p: "1"
    judge = _judge(fake_openai.base_url, tmp_path)
    t0 = time.perf_counter()
    assert judge.yes_no("yes", "yes").score == 1.0
    assert time.perf_counter() - t0 >= 0.2


def test_exhausted_retries_and_down_endpoint_are_counted_failures(fake_openai, down_url, tmp_path):
    fake_openai.fail_first = 100
    judge = _judge(fake_openai.base_url, tmp_path, max_retries=2)
    r = judge.yes_no("yes", "yes")
    assert not r.ok and r.score is None and "HTTP 503" in r.reason and "after 3 attempts" in r.reason
    assert fake_openai.n_requests == 3

    down = _judge(down_url, tmp_path / "down", max_retries=1)
    rows = [{"question": "q", "answer": "2 m", "response": f"{i} m"} for i in range(3)]
    results = down.judge_many("distance", rows)
    assert [x.ok for x in results] == [False] * 3 and all("Connection" in x.reason for x in results)
    summary = down.summary()  # 4 threads: which request trips the circuit breaker varies
    assert (summary["ok"], summary["failed"], summary["cached"]) == (0, 3, 0)
    assert sum(summary["failed_by"].values()) == 3 and set(summary["failed_by"]) <= {"endpoint", "circuit_open"}
    assert len(down.failures) == 3
    assert not (tmp_path / "down" / "judge" / "judge_cache.jsonl").exists()  # failures are not cached


def test_distance_and_direction_scoring(fake_openai, tmp_path):
    replies = {
        "A": '{"answer_in_meters": 2.0, "response_in_meters": 2.4}',  # within 25 %
        "B": '"answer_in_meters": 2.0, "response_in_meters": 3.0',  # bare pairs, outside 25 %
        "C": '```json\n{"answer_in_meters": 1.0, "response_in_meters": null}\n```',  # no number in the response
        "D": '{"answer_in_meters": "__import__(\'os\').system(\'echo pwned\')", "response_in_meters": 1}',
        "E": '{"answer_direction": 12, "response_direction": 1}',
        "F": '{"answer_direction": 3, "response_direction": 6}',
    }
    fake_openai.responder = lambda p: replies[re.search(r"Question: (\w)\n", last_user_text(p)).group(1)]
    judge = _judge(fake_openai.base_url, tmp_path)
    a = judge.distance("A", "2 m", "2.4 m")
    assert a.ok and a.score == 1.0 and a.values["relative_error"] == pytest.approx(0.2)
    assert a.values["ratio"] == pytest.approx(1.2)
    b = judge.distance("B", "2 m", "3 m")
    assert b.ok and b.score == 0.0 and b.values["response_in_meters"] == 3.0
    c = judge.distance("C", "1 m", "no idea")
    assert c.ok and c.score == 0.0 and c.values["response_in_meters"] is None
    d = judge.distance("D", "1 m", "1 m")
    assert not d.ok and "not a number" in d.reason and d.raw.startswith('{"answer')
    e = judge.direction("E", "12 o'clock", "1 o'clock")
    assert e.ok and e.score == 1.0 and e.values["hours_off"] == 1
    assert judge.direction("F", "3 o'clock", "6 o'clock").score == 0.0
    assert judge.summary() == {"ok": 5, "failed": 1, "cached": 0, "failed_by": {"unparsable": 1}}


@pytest.mark.parametrize(
    "text, score",
    [("1", 1.0), ("0", 0.0), (" 1.", 1.0), ("Score: 1/1", 1.0), ('{"score": 0}', 0.0), ('{"your_mark": 1}', 1.0),
     ("1.0", 1.0), ("```\n0\n```", 0.0)],
)  # fmt: skip
def test_parse_binary_accepts(text, score):
    assert parse_binary(text) == score


@pytest.mark.parametrize("text", ["0 or 1", "10", "0.5", "yes", "", '{"score": 2}', '{"a": 1, "b": 0}'])
def test_parse_binary_rejects(text):
    with pytest.raises(JudgeParseError):
        parse_binary(text)


def test_parse_json_object_never_evaluates():
    with pytest.raises(JudgeParseError):
        parse_json_object("__import__('os').system('true')")
    assert parse_json_object('Sure! {"a": 1} done') == {"a": 1}


def test_custom_template_and_field_checks(fake_openai, tmp_path):
    fake_openai.responder = lambda p: '{"your_mark": 1}'
    judge = _judge(fake_openai.base_url, tmp_path, templates={"qualitative": "Q={question} A={answer} R={response}"})
    assert judge.qualitative("q", "a", "r").score == 1.0
    assert fake_openai.requests[0]["json"]["messages"][-1]["content"] == "Q=q A=a R=r"
    with pytest.raises(TypeError, match="missing"):
        judge.judge("distance", question="q")
    with pytest.raises(KeyError, match="choose from"):
        judge.judge("vibes", x="y")
    with pytest.raises(KeyError):
        _judge(fake_openai.base_url, tmp_path, templates={"vibes": "x"})


def test_cache_file_is_jsonl_of_hashes(fake_openai, tmp_path):
    fake_openai.responder = lambda p: "1"
    _judge(fake_openai.base_url, tmp_path).yes_no("yes", "yes")
    (line,) = (tmp_path / "judge" / "judge_cache.jsonl").read_text().splitlines()
    rec = json.loads(line)
    assert re.fullmatch(r"[0-9a-f]{64}", rec["id"]) and rec["output"] == "1"
