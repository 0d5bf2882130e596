"""benchmarks/mirror_agreement.py: rule mirroring agrees with the engine's exact mirror pairs."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "mirror_agreement.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("mirror_agreement", _PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["mirror_agreement"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_rules_agree_with_exact_mirrors(bench, capsys):
    bench.main(["--scenes", "6", "--qa-per-scene", "40"])
    out = capsys.readouterr().out.strip().splitlines()
    res = bench.run(6, qa_per_scene=40)
    t = res["total"]
    assert t["accepted"] >= 150 and t["agree"] / t["accepted"] >= 0.99
    assert t["accepted"] / t["n"] >= 0.9
    both = t + bench.run(6, qa_per_scene=40, paraphrased=True)["total"]  # the final line counts both wordings
    assert out[-1] == bench.final_line(both) and both["accepted"] > t["accepted"]
    assert re.fullmatch(r"rule mirroring: \d+\.\d % of \d+ accepted records agree with exact mirroring "
                        r"\(acceptance \d+\.\d %\)", out[-1])
    assert any(line.startswith("templates: rule mirroring") for line in out)
    assert any(line.startswith("paraphrases: rule mirroring") for line in out)


def test_a_broken_clock_rule_is_caught(bench, monkeypatch):
    from spatialforge.mirror import rules

    assert bench.run(6, qa_per_scene=20, tasks=("perspective",))["total"]["agree"] >= 100
    monkeypatch.setattr(rules, "mirror_hour", lambda h: h)
    t = bench.run(6, qa_per_scene=20, tasks=("perspective",))["total"]
    assert t["agree"] / t["accepted"] < 0.99


def test_a_broken_side_swap_is_caught(bench, monkeypatch):
    from spatialforge.mirror import rules

    monkeypatch.setattr(rules, "mirror_word", lambda w: w)
    t = bench.run(6, qa_per_scene=40)["total"]
    assert t["agree"] / t["accepted"] < 0.9


def test_paraphrased_questions_agree_too(bench):
    from mirror_paraphrases import PARAPHRASES, paraphrase

    out = bench.run(6, qa_per_scene=40, paraphrased=True)
    t = out["total"]
    assert t["accepted"] / t["n"] >= 0.99 and t["agree"] / t["accepted"] >= 0.99
    assert len(PARAPHRASES) >= 30 and len(out["fired"]) >= 30  # the patterns are used, not just listed
    assert paraphrase("the cup is to the left of the bed, at 3 o'clock", "a") == "the cup is to the left of the bed, at 3 o clock"
    assert paraphrase("Is the following correct? The cup is to the left of the bed.") == \
        "Is the following right? The cup sits on the left side of the bed."


def test_a_missing_judged_right_rule_is_caught(bench, monkeypatch):
    from spatialforge.mirror import rules

    monkeypatch.setattr(rules, "_judged", lambda *a: False)  # "Is the following right?" would become "left?"
    t = bench.run(6, qa_per_scene=40, paraphrased=True)["total"]
    assert t["agree"] / t["accepted"] < 0.99
