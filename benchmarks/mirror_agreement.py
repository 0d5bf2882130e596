"""Rule mirroring measured against exact mirroring (issue #14).

The task engine realises each question plan on the scene and on its mirrored scene, so every
record has an exact mirrored partner.  This benchmark keeps only the originals, mirrors them
with :func:`spatialforge.mirror.rules.mirror_record` (as ``spatialforge mirror --mode rules``
would, with ``points3d="camera"``: our 3D answers are camera-frame) and compares each accepted
rewrite with the exact partner:

* answer: the rule answer scored against the partner's ``answer_struct`` with the project's
  parsers (``eval.scoring.score_sample``) and held to "same value" (same letter, truth value,
  hour, label; numbers, points and vectors within rounding);
* question: the same text (options included), after writing ``-0`` as ``0``.

It runs twice: on our templates' wording, and on the same records reworded alike on both
sides of each pair by ``mirror_paraphrases.py`` (people's wordings, written independently of
our templates).  It prints acceptance and agreement per task for each, and as the final line,
over both, ``rule mirroring: X % of N accepted records agree with exact mirroring (acceptance A %)``.
Run: ``PYTHONPATH=src python benchmarks/mirror_agreement.py --scenes 40``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

_NEG_ZERO = re.compile(r"-(0(?:\.0+)?)(?![\d.])")

from mirror_paraphrases import PARAPHRASES, paraphrase  # noqa: E402  (people's wordings, >= 30 patterns)


def _paraphrased(r, fired: dict[int, int] | None = None):
    from dataclasses import replace

    return replace(r, question=paraphrase(r.question, "q", fired), answer=paraphrase(r.answer, "a", fired),
                   choices=tuple(paraphrase(c, "q", fired) for c in r.choices))


def _norm_q(text: str) -> str:
    return _NEG_ZERO.sub(r"\1", " ".join(text.split()))


def answer_agrees(rule_answer: str, exact) -> tuple[bool, str]:
    """Does ``rule_answer`` state the same value as the exact partner record?"""
    from spatialforge.eval.scoring import score_sample

    def parsed(text: str):
        s = score_sample(text, exact.answer_struct, exact.eval_type, question=exact.question,
                         choices=list(exact.choices) or None)
        return s.parsed if s.parsable else None

    mine, theirs = parsed(rule_answer), parsed(exact.answer)
    if theirs is None:
        raise AssertionError(f"{exact.id}: the exact answer {exact.answer!r} does not parse")
    same = mine is not None and _same(mine, theirs)
    return same, "" if same else f"parsed {mine!r}, exact {theirs!r}"


def _same(a, b) -> bool:
    """Equal parsed values (floats to 1e-9: both sides went through the same parser)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
        except (TypeError, ValueError):
            return False
    return a == b


def run(num_scenes: int = 20, seed: int = 5, qa_per_scene: int = 40, show: int = 0, tasks=None,
        paraphrased: bool = False) -> dict:
    """Mirror the originals of ``num_scenes`` layout scenes by rule; per-task counts and totals.
    ``paraphrased``: reword original and exact partner alike with the paraphrase table first
    (``fired``: how often each of its patterns applied)."""
    from qa_distribution import layout_scene

    from spatialforge.mirror.rules import mirror_record
    from spatialforge.tasks import generate_qa

    per_task: dict[str, Counter] = {}
    disagreements: list[str] = []
    fired: dict[int, int] = {}
    reasons: Counter = Counter()
    for i in range(num_scenes):
        res = generate_qa(layout_scene(seed, i), seed=seed * 1000 + i, qa_per_scene=qa_per_scene, mirror=True,
                          tasks=tasks)
        by_id = {r.id: r for r in res.records}
        for r in res.records:
            if r.view != "original" or (exact := by_id.get(r.id + "-m")) is None:
                continue
            if paraphrased:
                r, exact = _paraphrased(r, fired), _paraphrased(exact)
            c = per_task.setdefault(r.task, Counter())
            c["n"] += 1
            m = mirror_record(r.question, r.answer, r.choices, points3d="camera")
            if m.status == "rejected":
                c["rejected"] += 1
                reasons[m.reason] += 1
                continue
            c["accepted"] += 1
            ok_a, why = answer_agrees(m.answer, exact)
            ok_q = _norm_q(m.question) == _norm_q(exact.question)
            c["answer_agree"] += ok_a
            c["question_agree"] += ok_q
            c["agree"] += ok_a and ok_q
            if not (ok_a and ok_q) and len(disagreements) < max(show, 0):
                disagreements.append(f"{r.id} [{r.task}/{r.format}] answer {m.answer!r} vs {exact.answer!r} ({why}); "
                                     f"question {'same' if ok_q else repr(m.question) + ' vs ' + repr(exact.question)}")
    total = sum(per_task.values(), Counter())
    return {"per_task": per_task, "total": total, "disagreements": disagreements, "fired": fired,
            "reasons": reasons}


def final_line(total: Counter) -> str:
    acc = total["accepted"]
    agree = 100.0 * total["agree"] / acc if acc else 0.0
    rate = 100.0 * acc / total["n"] if total["n"] else 0.0
    return f"rule mirroring: {agree:.1f} % of {acc} accepted records agree with exact mirroring (acceptance {rate:.1f} %)"


def print_table(title: str, out: dict) -> None:
    print(f"== {title}")
    print(f"{'task':<16}{'n':>6}{'accepted':>10}{'accept %':>10}{'answer ok':>11}{'question ok':>13}{'agree %':>9}")
    for task, c in sorted(out["per_task"].items()):
        agree = 100.0 * c["agree"] / c["accepted"] if c["accepted"] else 0.0
        print(f"{task:<16}{c['n']:>6}{c['accepted']:>10}{100.0 * c['accepted'] / c['n']:>9.1f}%"
              f"{c['answer_agree']:>11}{c['question_agree']:>13}{agree:>8.1f}%")
    for line in out["disagreements"]:
        print("  disagree:", line)
    for reason, n in out["reasons"].most_common():
        print(f"  rejected {n}: {reason}")
    print(f"{title}: " + final_line(out["total"]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--qa-per-scene", type=int, default=40)
    ap.add_argument("--tasks", nargs="*", default=None, help="only these tasks (default: all)")
    ap.add_argument("--show", type=int, default=10, help="print up to this many disagreements")
    a = ap.parse_args(argv)
    out = run(a.scenes, a.seed, a.qa_per_scene, a.show, a.tasks)
    print_table("templates", out)
    para = run(a.scenes, a.seed, a.qa_per_scene, a.show, a.tasks, paraphrased=True)
    print_table("paraphrases", para)
    print(f"paraphrase patterns that applied: {len(para['fired'])} of {len(PARAPHRASES)}")
    print(final_line(out["total"] + para["total"]))


if __name__ == "__main__":
    main()
