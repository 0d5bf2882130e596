"""SpatialRGPT-Bench per-category judge prompts, judge failure counts in `score`, and the
circuit breaker that makes a dead judge endpoint cost seconds (issue #11 item 12).

Real HTTP: a fake OpenAI server on 127.0.0.1 and a port where nothing listens."""

from __future__ import annotations

import json
import re
import time
from importlib import resources

import pytest
from typer.testing import CliRunner

from spatialforge.cli import app
from spatialforge.eval.evaluate import score_predictions
from spatialforge.eval.judge import LLMJudge, spatialrgpt_template_name
from spatialforge.llm_client import ChatClient, CircuitBreaker, CircuitOpenError, EndpointError
from tests.eval.benchfix import write_spatialrgpt
from tests.fixtures_http import down_url, fake_openai, last_user_text  # noqa: F401

KEY = "sk-judge-SECRET-77aa"
TEMPLATES = resources.files("spatialforge.eval").joinpath("judge_templates")
# the official qualitative categories (scripts/srgpt/eval/prompt_templates/*_predicate.txt)
PREDICATES = ["above", "behind", "below", "big", "front", "left", "right", "short", "small", "tall", "thin", "wide"]


def _judge(base_url, tmp_path, **kw) -> LLMJudge:
    kw.setdefault("backoff", 0.01)
    return LLMJudge(base_url, "judge-model", api_key=KEY, cache_dir=tmp_path / "judge", **kw)


def official_prompt(category: str, question: str, answer: str, response: str) -> str:
    """evaluate_qual_question of scripts/srgpt/eval/evaluate_spatial_with_gpt4.py, re-typed."""
    prompt_cat = "choice" if "choice" in category else category
    examples = TEMPLATES.joinpath(f"{prompt_cat}.txt").read_text().strip()
    prompt = f"""
You should help me to evaluate the response given the question and the correct answer.
To mark a response, you should output a single integer between 0 and 1.
1 means that the response perfectly matches the answer.
0 means that the response is completely different from the answer.
The output should be in JSON format.

"""
    post_fix = f"""

Your Turn:
Question: {question}
Answer: {answer}
Response: {response}
    """
    return prompt + examples.format(question=question) + post_fix.format(question, answer, response)


def test_every_official_category_has_its_template_as_package_data():
    names = sorted(p.name for p in TEMPLATES.iterdir() if p.name.endswith(".txt"))
    assert names == sorted([f"{p}_predicate.txt" for p in PREDICATES] + ["choice.txt"])
    for name in names:
        text = TEMPLATES.joinpath(name).read_text()
        marks = re.findall(r'^"your_mark": ([01])$', text, re.M)
        assert len(marks) == text.count("Example ") >= 4 and set(marks) == {"0", "1"}, name
        # predicates fill in the question being judged; the choice examples carry their own
        assert ("{question}" in text) == (name != "choice.txt"), name
    assert spatialrgpt_template_name("tall_choice") == spatialrgpt_template_name("left_choice") == "choice"
    assert spatialrgpt_template_name("left_predicate") == "left_predicate"


@pytest.mark.parametrize("category", ["left_predicate", "behind_predicate", "tall_choice", "big_choice"])
def test_qualitative_sends_the_official_prompt_for_the_category(fake_openai, tmp_path, category):
    fake_openai.responder = lambda p: '{"your_mark": 1}' if "Indeed" in last_user_text(p).rsplit("Your Turn", 1)[1] \
        else '{"your_mark": 0}'
    judge = _judge(fake_openai.base_url, tmp_path)
    q, a = "Is Region [0] to the left of Region [1]?", "Yes, Region [0] is to the left of Region [1]."
    r = judge.qualitative(q, a, "Indeed, it is on the left.", category=category)
    assert (r.ok, r.score) == (True, 1.0)
    sent = fake_openai.requests[0]["json"]
    assert sent["messages"][0] == {"role": "system", "content": "You are a helpful assistant designed to output JSON."}
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["messages"][1]["content"] == official_prompt(category, q, a, "Indeed, it is on the left.")  # byte for byte
    assert judge.qualitative(q, a, "No, it is on the right.", category=category).score == 0.0
    # braces in a field are text (the official double str.format raises KeyError on this one)
    judge.qualitative(q, a, "Indeed {answer}.", category=category)
    assert fake_openai.requests[-1]["json"]["messages"][1]["content"].endswith("\nResponse: Indeed {answer}.\n    ")
    # a category prompt is not the generic one: the generic template has no "your_mark" examples
    judge.qualitative(q, a, "Indeed.")
    assert '"your_mark"' not in fake_openai.requests[-1]["json"]["messages"][1]["content"]


def test_categories_get_their_own_examples(fake_openai, tmp_path):
    fake_openai.responder = lambda p: '{"your_mark": 1}'
    judge = _judge(fake_openai.base_url, tmp_path)
    for cat in ("left_predicate", "wide_predicate", "tall_choice"):
        judge.qualitative("q?", "a.", "r.", category=cat)
    left, wide, choice = (r["json"]["messages"][1]["content"] for r in fake_openai.requests)
    assert "to the left of Region [1]" in left and "wider than" in wide and "Who is taller" in choice
    assert len({left, wide, choice}) == 3


def test_unknown_category_is_a_counted_failure_without_a_request(fake_openai, tmp_path):
    judge = _judge(fake_openai.base_url, tmp_path)
    for cat in ("sideways_predicate", "../../etc/passwd"):
        r = judge.qualitative("q", "a", "r", category=cat)
        assert not r.ok and r.score is None and "no SpatialRGPT judge template" in r.reason
    assert fake_openai.n_requests == 0
    assert judge.summary() == {"ok": 0, "failed": 2, "cached": 0, "failed_by": {"no_template": 2}}


def test_template_dir_overrides_the_shipped_files(fake_openai, tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "left_predicate.txt").write_text("\nMY EXAMPLES for {question}\n\n")
    fake_openai.responder = lambda p: '{"your_mark": 0}'
    judge = _judge(fake_openai.base_url, tmp_path, template_dir=tmp_path / "tpl")
    assert judge.qualitative("Q?", "A.", "R.", category="left_predicate").score == 0.0
    content = fake_openai.requests[0]["json"]["messages"][1]["content"]
    assert "\nMY EXAMPLES for Q?\n\nYour Turn:\nQuestion: Q?\nAnswer: A.\nResponse: R.\n    " in content
    assert not judge.qualitative("Q?", "A.", "R.", category="tall_predicate").ok  # not in that folder


def test_unparsable_and_endpoint_failures_are_counted_by_kind(fake_openai, tmp_path):
    fake_openai.responder = lambda p: "I think they match."
    judge = _judge(fake_openai.base_url, tmp_path)
    r = judge.qualitative("q", "a", "r", category="left_predicate")
    assert not r.ok and "unparsable" in r.reason
    fake_openai.fail_first, fake_openai.fail_status = 100, 400
    assert not judge.qualitative("q2", "a", "r", category="left_predicate").ok
    s = judge.summary()
    assert s["failed"] == 2 and s["failed_by"] == {"unparsable": 1, "endpoint": 1}
    assert judge.client.breaker.failures == 0  # an HTTP error is an answer: the server is up


# ---------------------------------------------------------------- circuit breaker
def test_dead_endpoint_costs_seconds_not_a_retry_schedule_per_sample(down_url, tmp_path):
    # Without the breaker each sample waits 0.2+0.4+0.8+1.6 = 3 s of backoff (60 s for 20
    # samples); with it only the first sample retries (0.2+0.4 s), the other 19 fail at once.
    judge = _judge(down_url, tmp_path, backoff=0.2, max_retries=4)
    t0 = time.perf_counter()
    results = [judge.qualitative(f"q{i}", "a", "r", category="left_predicate") for i in range(20)]
    wall = time.perf_counter() - t0
    assert wall < 2.5, wall
    assert [r.ok for r in results] == [False] * 20
    assert "after 3 attempts" in results[0].reason and "circuit open" in results[0].reason
    assert all("circuit open" in r.reason and "not calling" in r.reason for r in results[1:])
    assert judge.summary() == {"ok": 0, "failed": 20, "cached": 0, "failed_by": {"endpoint": 1, "circuit_open": 19}}
    assert judge.client.breaker.rejected == 19


def test_breaker_off_retries_every_sample(down_url, tmp_path):
    judge = _judge(down_url, tmp_path, backoff=0.05, max_retries=2, breaker_after=0)
    t0 = time.perf_counter()
    results = [judge.yes_no("yes", "yes") for _ in range(3)]
    assert time.perf_counter() - t0 >= 3 * (0.05 + 0.1)  # each sample ran its full retry schedule
    assert all("after 3 attempts" in r.reason for r in results)
    assert judge.summary()["failed_by"] == {"endpoint": 3}


def test_breaker_probes_after_the_cooldown_and_closes_on_success():
    b = CircuitBreaker(threshold=2, cooldown=0.15)
    assert b.blocked() is None
    b.record(False, "refused")
    assert not b.is_open and b.blocked() is None  # one failure: still closed
    b.record(True)
    b.record(False, "refused")
    assert not b.is_open  # the success in between reset the count
    b.record(False, "refused")
    assert b.is_open and "2 consecutive connection failures" in b.blocked() and "refused" in b.blocked()
    time.sleep(0.2)
    assert b.blocked() is None  # the probe goes out ...
    assert b.blocked() is not None  # ... alone
    b.record(False, "still refused")  # a failed probe opens it again at once
    assert b.is_open and b.blocked() is not None
    time.sleep(0.2)
    assert b.blocked() is None
    b.record(True)
    assert not b.is_open and b.failures == 0 and b.blocked() is None
    with pytest.raises(ValueError):
        CircuitBreaker(threshold=0)


def test_breaker_recovers_when_the_endpoint_comes_back(fake_openai, down_url):
    client = ChatClient(down_url, KEY, max_retries=0, backoff=0.01, breaker_after=1, breaker_cooldown=0.1)
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(EndpointError):
        client.complete(payload)
    with pytest.raises(CircuitOpenError):
        client.complete(payload)
    client.base_url = fake_openai.base_url.rstrip("/")  # the endpoint is back
    time.sleep(0.15)
    assert client.complete(payload) == "echo: hi"  # the probe succeeds and closes the breaker
    assert not client.breaker.is_open and client.complete(payload) == "echo: hi"


# ---------------------------------------------------------------- `score` output
def _srgpt_preds(tmp_path):
    preds = ["It is 1.2 meters wide.", "22.32 feet", "around 3 o'clock", "Yes, it is on the left.", "Region [1]."]
    path = tmp_path / "preds.jsonl"
    path.write_text("".join(json.dumps({"id": f"srgpt{i}", "prediction": p}) + "\n" for i, p in enumerate(preds)))
    return path


def test_score_predictions_reports_judge_counts(fake_openai, tmp_path):
    source = write_spatialrgpt(tmp_path)
    fake_openai.responder = lambda p: '{"your_mark": 1}' if "left" in last_user_text(p).rsplit("Your Turn", 1)[1] \
        else "no idea"
    res = score_predictions(_srgpt_preds(tmp_path), "spatialrgpt", source, judge=_judge(fake_openai.base_url, tmp_path))
    agg = res["aggregate"]
    assert agg["judge_stats"] == {"ok": 1, "failed": 1, "cached": 0, "failed_by": {"unparsable": 1}}
    assert agg["metrics"]["n_qualitative_judge_failed"] == 1 and agg["metrics"]["qualitative_accuracy"] == 1.0


def test_cli_score_with_a_dead_judge_counts_failures_in_its_json(down_url, tmp_path):
    source = write_spatialrgpt(tmp_path)
    t0 = time.perf_counter()
    res = CliRunner().invoke(app, ["score", str(_srgpt_preds(tmp_path)), "--benchmark", "spatialrgpt",
                                   "--source", str(source), "--judge-url", down_url, "--judge-model", "m"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{"):])
    assert out["judge_stats"]["failed"] == 2 and out["judge_stats"]["ok"] == 0
    assert out["judge_stats"]["failed_by"] == {"endpoint": 1, "circuit_open": 1}
    assert out["metrics"]["n_qualitative_judge_failed"] == 2
    assert time.perf_counter() - t0 < 10  # default backoff 1 s + 2 s, then the breaker is open
