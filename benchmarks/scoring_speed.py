"""Parse + score throughput of ``spatialforge.eval.scoring.score_sample`` on one core.

100k synthetic model outputs: lengths with units in many forms (40 %), multiple-choice
letters (25 %), yes/no (20 %) and 2D boxes (15 %), a third of them wrapped in
``<think>…</think> <answer>…</answer>``. No sBERT, no judge. Prints predictions per CPU-second for
the full path, per eval type, and two baselines measured in the same interleaved rounds: a bare
one (one regex search + float per text) for scale, and the length scorer as it was before
issue #17 (``metrics.ratio`` / the vector rules on one-element numpy arrays per sample), so the
gain of the plain-float path is a same-run ratio.  Figures: median of ``--repeats`` rounds.

    python benchmarks/scoring_speed.py [--n 100000] [--repeats 5]

Targets (issue #17): >= 100,000 predictions/s/core overall, >= 80,000 for length answers.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads

import argparse  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402

LENGTH_FORMS = ["{v:.2f} m", "{c:.0f} cm", "about {v:.1f} meters", "{v:.1f}m", "{c:.0f} centimeters.",
                "The distance is approximately {v:.2f} meters.", "{ft:.1f} feet", "{mm:,.0f} mm",
                "It is roughly {v:.1f} m away from the chair.", "{v:.1f}-{v2:.1f} m", "{ft:.0f}'{inch:.0f}\""]
CHOICE_FORMS = ["{L}", "({L})", "The answer is ({L}).", "{L}. {opt}", "Option {L}", "**{L}**", "{opt}"]
YESNO_FORMS = ["{yn}", "{yn}.", "{Yn}, it is.", "{Yn}, the cup is to the left of the laptop.",
               "It is not on the left.", "I think {yn}."]
BOX_FORMS = ["[{x0}, {y0}, {x1}, {y1}]", '{{"bbox_2d": [{x0}, {y0}, {x1}, {y1}], "label": "cup"}}',
             "The box is [{x0}, {y0}, {x1}, {y1}]."]
OPTIONS = ["chair", "table", "lamp", "sofa"]


def make_samples(n: int, seed: int = 0) -> list[tuple[str, dict, str, tuple]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.40:
            gt = rng.uniform(0.2, 8.0)
            v = gt * rng.uniform(0.5, 1.8)
            ft = v / 0.3048
            text = rng.choice(LENGTH_FORMS).format(v=v, v2=v * 1.2, c=v * 100, mm=v * 1000, ft=ft,
                                                   inch=min(11, (ft % 1) * 12))
            item = (text, {"kind": "length", "value": gt}, "numeric", ())
        elif r < 0.65:
            k = rng.randrange(4)
            text = rng.choice(CHOICE_FORMS).format(L="ABCD"[k], opt=OPTIONS[k])
            item = (text, {"kind": "choice", "value": "ABCD"[rng.randrange(4)]}, "choice", tuple(OPTIONS))
        elif r < 0.85:
            yn = rng.choice(["yes", "no"])
            text = rng.choice(YESNO_FORMS).format(yn=yn, Yn=yn.capitalize())
            item = (text, {"kind": "boolean", "value": rng.random() < 0.5}, "yesno", ())
        else:
            x0, y0 = rng.randrange(0, 300), rng.randrange(0, 200)
            x1, y1 = x0 + rng.randrange(10, 300), y0 + rng.randrange(10, 200)
            text = rng.choice(BOX_FORMS).format(x0=x0, y0=y0, x1=x1, y1=y1)
            item = (text, {"kind": "box2d", "value": [x0 + 5, y0, x1, y1 + 5]}, "box2d", ())
        if rng.random() < 0.33:
            item = (f"<think>Let me look at the image.</think> <answer>{item[0]}</answer>",) + item[1:]
        out.append(item)
    return out


def _rates(fns: dict, samples, repeats: int) -> dict[str, list[float]]:
    """Predictions per CPU-second of this process for each function, ``repeats`` interleaved
    rounds: CPU time, not wall time, so other jobs on a shared machine do not count, and
    drifts hit every function alike."""
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.process_time()
            fn(samples)
            out[name].append(len(samples) / (time.process_time() - t0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    import statistics
    from unittest import mock

    from spatialforge.eval import metrics as M
    from spatialforge.eval.scoring import score_sample

    samples = make_samples(args.n)

    def full(batch):
        for text, struct, et, choices in batch:
            score_sample(text, struct, et, choices=choices or None)

    def numpy_per_sample(p, g, rule="success"):  # the pre-#17 scalar path, kept as the baseline
        return bool(M.NUMERIC_RULES[rule]([p], [g])[0])

    def numpy_ratio1(p, g):
        return float(M.ratio(p, g)[0])

    def full_numpy(batch):
        with mock.patch.object(M, "numeric_correct", numpy_per_sample), mock.patch.object(M, "ratio1", numpy_ratio1):
            full(batch)

    num = re.compile(r"[-+]?\d*\.?\d+")

    def bare(batch):
        for text, *_ in batch:
            m = num.search(text)
            if m:
                float(m.group())

    full(samples[:2000])  # warm caches (regex compile, lru caches)
    med = statistics.median
    r = _rates({"full": full, "bare": bare}, samples, args.repeats)
    rate, base = med(r["full"]), med(r["bare"])
    print(f"predictions: {len(samples):,} (one core, OMP/MKL threads = 1, CPU time, median of {args.repeats} "
          f"interleaved rounds)")
    print(f"parse + score (score_sample):  {rate:>12,.0f} predictions/s   target >= 100,000: "
          f"{'met' if rate >= 100_000 else 'NOT met'}  (rounds {min(r['full']):,.0f}-{max(r['full']):,.0f})")
    by_type: dict[str, list] = {}
    for s in samples:
        by_type.setdefault(s[2], []).append(s)
    for et, group in sorted(by_type.items()):
        fns = {"now": full, "numpy": full_numpy} if et == "numeric" else {"now": full}
        g = _rates(fns, group, args.repeats)
        line = f"  {et:<8} ({len(group):>6,}):         {med(g['now']):>12,.0f} predictions/s"
        if et == "numeric":
            ratios = [a / b for a, b in zip(g["now"], g["numpy"])]
            line += (f"   target >= 80,000: {'met' if med(g['now']) >= 80_000 else 'NOT met'}; baseline "
                     f"(numpy per sample) {med(g['numpy']):,.0f}/s -> {med(ratios):.2f}x")
        print(line)
    print(f"bare baseline (re.search+float): {base:>10,.0f} predictions/s   ({base / rate:.1f}x the full path)")


if __name__ == "__main__":
    main()
