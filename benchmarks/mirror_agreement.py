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

It prints the acceptance rate per task and the final line
``rule mirroring: X % of N accepted records agree with exact mirroring (acceptance A %)``.
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

#: other wordings of our templates' spatial phrases, each symmetric in left/right, so applying
#: one to a record and to its exact partner keeps them a mirror pair; the rules then meet forms
#: our templates never write (left-hand side, left-most, curly o'clock, "turned to the left" ...)
PARAPHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"\bto the (left|right) of\b", r"on the \1-hand side of"),
    (r"\bon the (left|right)\b(?! side| or|-hand)", r"on the \1 side"),
    (r"\b(left|right)most\b", r"\1-most"),
    (r"\bfacing (left|right)\b", r"turned to the \1"),
    (r"\bon its (left|right)\b", r"to its \1"),
    (r"\bon your (left|right)\b", r"to your \1"),
    (r"(\d+) o'clock", "\\1 o\u2019clock"),
    (r"\bclock direction\b", "clock position"),
    (r"\bRelative to\b", "Compared with"),
    (r"\bcamera frame\b", "camera coordinate frame"),
))


def paraphrase(text: str) -> str:
    for rx, rep in PARAPHRASES:
        text = rx.sub(rep, text)
    return text


def _paraphrased(r):
    from dataclasses import replace

    return replace(r, question=paraphrase(r.question), answer=paraphrase(r.answer),
                   choices=tuple(paraphrase(c) for c in r.choices))


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
    ``paraphrased``: reword original and exact partner alike with :data:`PARAPHRASES` first."""
    from qa_distribution import layout_scene

    from spatialforge.mirror.rules import mirror_record
    from spatialforge.tasks import generate_qa

    per_task: dict[str, Counter] = {}
    disagreements: list[str] = []
    for i in range(num_scenes):
        res = generate_qa(layout_scene(seed, i), seed=seed * 1000 + i, qa_per_scene=qa_per_scene, mirror=True,
                          tasks=tasks)
        by_id = {r.id: r for r in res.records}
        for r in res.records:
            if r.view != "original" or (exact := by_id.get(r.id + "-m")) is None:
                continue
            if paraphrased:
                r, exact = _paraphrased(r), _paraphrased(exact)
            c = per_task.setdefault(r.task, Counter())
            c["n"] += 1
            m = mirror_record(r.question, r.answer, r.choices, points3d="camera")
            if m.status == "rejected":
                c["rejected"] += 1
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
    return {"per_task": per_task, "total": total, "disagreements": disagreements}


def final_line(total: Counter) -> str:
    acc = total["accepted"]
    agree = 100.0 * total["agree"] / acc if acc else 0.0
    rate = 100.0 * acc / total["n"] if total["n"] else 0.0
    return f"rule mirroring: {agree:.1f} % of {acc} accepted records agree with exact mirroring (acceptance {rate:.1f} %)"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--qa-per-scene", type=int, default=40)
    ap.add_argument("--tasks", nargs="*", default=None, help="only these tasks (default: all)")
    ap.add_argument("--show", type=int, default=10, help="print up to this many disagreements")
    a = ap.parse_args(argv)
    out = run(a.scenes, a.seed, a.qa_per_scene, a.show, a.tasks)
    print(f"{'task':<16}{'n':>6}{'accepted':>10}{'accept %':>10}{'answer ok':>11}{'question ok':>13}")
    for task, c in sorted(out["per_task"].items()):
        print(f"{task:<16}{c['n']:>6}{c['accepted']:>10}{100.0 * c['accepted'] / c['n']:>9.1f}%"
              f"{c['answer_agree']:>11}{c['question_agree']:>13}")
    for line in out["disagreements"]:
        print("  disagree:", line)
    para = run(a.scenes, a.seed, a.qa_per_scene, a.show, a.tasks, paraphrased=True)
    for line in para["disagreements"]:
        print("  disagree (paraphrased):", line)
    print("paraphrased questions: " + final_line(para["total"]))
    print(final_line(out["total"]))


if __name__ == "__main__":
    main()
