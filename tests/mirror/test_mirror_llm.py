"""The LLM path of `mirror`: Table 1 prompt through ChatClient, rule and second-call verification."""

import json

import numpy as np
import pytest
from PIL import Image

from spatialforge.datasets.parquet import iter_rows
from spatialforge.llm_client import ChatClient
from spatialforge.mirror.llm import LLMMirror
from spatialforge.mirror.run import mirror_one, run_mirror
from spatialforge.mirror.formats import Item
from tests.fixtures_http import down_url, fake_openai, last_user_text  # noqa: F401


def _llm(url, verify=False):
    return LLMMirror(ChatClient(url, api_key="k", max_retries=0, timeout=5), "m", verify=verify)


def _reply(q, a, **extra):
    return "Here you go:\n```json\n" + json.dumps({"question": q, "answer": a, **extra}) + "\n```"


def test_rewrite_that_agrees_with_the_rules_is_verified(fake_openai):
    fake_openai.responder = lambda p: _reply("Is the cup on the right side of the plate?", "yes, on the right")
    item = Item("x", None, "Is the cup on the left side of the plate?", "yes, on the left")
    m = mirror_one(item, "llm", llm=_llm(fake_openai.base_url))
    assert m.status == "llm-verified" and m.answer == "yes, on the right"
    prompt = last_user_text(fake_openai.requests[0]["json"])
    assert "flipped horizontally" in prompt and item.question in prompt and "JSON" in prompt


def test_rewrite_that_disagrees_with_the_rules_is_rejected(fake_openai):
    # the shallow edit SVQA-R1 warns about: the question swapped, the answer not
    fake_openai.responder = lambda p: _reply("Is the cup on the right side of the plate?", "yes, on the left")
    m = mirror_one(Item("x", None, "Is the cup on the left side of the plate?", "yes, on the left"), "llm",
                   llm=_llm(fake_openai.base_url))
    assert m.status == "rejected" and "disagrees with the rules" in m.reason
    fake_openai.responder = lambda p: _reply("Where is the ball?", "2 o'clock")  # hour not mirrored (rules: 10)
    m = mirror_one(Item("y", None, "Where is the ball?", "2 o'clock"), "llm", llm=_llm(fake_openai.base_url))
    assert m.status == "rejected"


def test_rules_plus_llm_sends_only_soft_rejections_to_the_llm(fake_openai):
    fake_openai.responder = lambda p: _reply("What is in the man's right hand, on the right?", "a cup")
    llm = _llm(fake_openai.base_url)
    soft = Item("h", None, "What is in the man's left hand, on the left?", "a cup")
    assert mirror_one(soft, "rules+llm", llm=llm).status == "llm"  # sides swapped: accepted, unverified
    assert mirror_one(Item("e", None, "Is the cup on the left?", "yes"), "rules+llm", llm=llm).status == "exact-rule"
    hard = mirror_one(Item("s", None, "What does the sign say?", "STOP"), "rules+llm", llm=llm)
    assert hard.status == "rejected" and "text in the image" in hard.reason
    assert fake_openai.n_requests == 1
    fake_openai.responder = lambda p: _reply("What is in the man's left hand, on the left?", "a cup")  # not swapped
    assert "does not swap" in mirror_one(soft, "rules+llm", llm=llm).reason


def test_second_call_verifies(fake_openai):
    verdict = {"correct": False, "reason": "the cup is still on the left"}

    def respond(p):
        if "Rewritten question" in last_user_text(p):
            return json.dumps(verdict)
        return _reply("What is in the man's right hand?", "a cup")

    fake_openai.responder = respond
    item = Item("h", None, "What is in the man's left hand?", "a cup")
    m = mirror_one(item, "rules+llm", llm=_llm(fake_openai.base_url, verify=True))
    assert m.status == "rejected" and "still on the left" in m.reason
    verdict["correct"] = True
    assert mirror_one(item, "rules+llm", llm=_llm(fake_openai.base_url, verify=True)).status == "llm-verified"


def test_failures_are_counted_in_the_manifest(tmp_path, down_url, fake_openai):
    Image.fromarray(np.zeros((2, 3, 3), np.uint8)).save(tmp_path / "a.png")
    rows = [{"id": f"r{i}", "image": "a.png", "question": "Is it on the left?", "answer": "yes"} for i in range(4)]
    (tmp_path / "in.jsonl").write_text("\n".join(map(json.dumps, rows)))
    m = run_mirror(tmp_path / "in.jsonl", tmp_path / "out", mode="llm", llm=_llm(down_url))
    assert m.stats["llm_failures"] == 4 and m.stats["rejected"] == 4 and len(m.skipped) == 4
    assert m.stats["llm_breaker_rejected"] >= 1  # the circuit opened: later records cost no connection
    assert all("llm call failed" in r for r in m.skipped.values())
    fake_openai.responder = lambda p: "I cannot do that."
    m = run_mirror(tmp_path / "in.jsonl", tmp_path / "out2", mode="llm", llm=_llm(fake_openai.base_url))
    assert m.stats["llm_failures"] == 4 and "not a JSON object" in next(iter(m.skipped.values()))
    fake_openai.responder = lambda p: _reply("Is it on the right?", "yes")
    m = run_mirror(tmp_path / "in.jsonl", tmp_path / "out3", mode="llm", llm=_llm(fake_openai.base_url))
    got = [json.loads(r["meta"])["mirror"] for r in iter_rows(tmp_path / "out3") if r["view"] == "mirrored"]
    assert len(got) == 4 and {g["produced_by"] for g in got} == {"llm"} and m.stats["llm-verified"] == 4


def test_mcq_options_must_keep_their_number(fake_openai):
    fake_openai.responder = lambda p: _reply("Where is it?", "A", choices=["right"])
    m = mirror_one(Item("c", None, "Where is it?", "A", ("left", "right")), "llm", llm=_llm(fake_openai.base_url))
    assert m.status == "rejected" and "options" in m.reason


@pytest.mark.parametrize("breaker_after", [0])
def test_client_without_breaker_still_counts(down_url, tmp_path, breaker_after):
    llm = LLMMirror(ChatClient(down_url, api_key="k", max_retries=0, timeout=2, breaker_after=breaker_after), "m")
    assert mirror_one(Item("x", None, "Left?", "yes"), "llm", llm=llm).status == "rejected"
