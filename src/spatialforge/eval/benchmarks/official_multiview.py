"""Official extraction and scoring rules of the video / multi-view suites (``--rules official``).

Re-implemented from reading lmms-eval (github.com/EvolvingLMMs-Lab/lmms-eval, commit
75571cf, ``lmms_eval/tasks/<task>/utils.py``), never copied; like ``official.py`` they read
the raw output and keep the scorers' quirks on purpose, each named where it is:

* VSI-Bench (``vsibench``): letter = first space-separated word without a trailing "." and
  compared case-insensitively; number = the first digit run or English number-word run;
  MRA with ``<=`` on ``np.linspace(.5, .95, 10)`` (ours: ``<`` on exact hundredths).
* MMSI-Bench (``mmsi_bench``): text inside double backticks, single backticks or braces first,
  then the first standalone A-F not followed by a space and a word.
* OmniSpatial (``omnispatial``, ``eval_type: re``): the last ``Answer: X`` (X in A-D, any
  case), **"A" when there is none**, compared case-sensitively with ``gt``.
* ViewSpatial-Bench (``viewspatial``): the first standalone A-D of the *last line*.
* SITE (``sitebench``): MMMU's ``parse_multi_choice_response`` ("(B)", " B ", "B.", "B:"
  tiers; the last one wins). Where it finds nothing the official code draws a *random*
  letter; we count the sample wrong so the number is deterministic.
* SPAR-Bench (``sparbench``): letters by ``pred == gt or pred in gt or pred[0] == gt``
  (lower-cased), so an empty output matches; numbers: the first number (the last one for
  the ``*_mv`` types, -1 when none), MRA with the absolute error when the truth is 0;
  ``view_change_infer``: MRA per motion axis with prediction and truth swapped.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

_LMMS_THRESHOLDS = np.linspace(0.5, 0.95, 10)  # lmms-eval: int((.95 - .5) / .05 + 2) == 10 points


def lmms_mra(pred: float | None, gt: float | None, zero_abs: bool = False) -> float:
    """lmms-eval's ``mean_relative_accuracy``: ``|p - g| / g <= 1 - θ``; 0 if either is missing.
    ``zero_abs``: SPAR's ``abs_dist_norm`` (absolute error for a truth of 0; relative otherwise)."""
    if pred is None or gt is None:
        return 0.0
    if gt == 0:
        if not zero_abs:
            return 0.0  # VSI-Bench truths are never 0 (its code would raise ZeroDivisionError): no hit
        err = abs(pred - gt)
    else:
        err = abs((pred - gt) / gt)
    return float(np.mean(err <= 1 - _LMMS_THRESHOLDS))


# ---------------------------------------------------------------- VSI-Bench
_NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                            "thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_NUMBER_WORDS.update({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                      "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000})
_DIGITS = re.compile(r"-?\d+(?:\.\d+)?")


def vsi_letter(output: str | None) -> str:
    """``fuzzy_matching``: the first space-separated word, trailing dots removed."""
    return (output or "").split(" ")[0].rstrip(".").strip()


def vsi_number(text: str | None) -> float | None:
    """``extract_number``: whichever comes first, a digit run or a run of number words."""
    s = str(text or "").strip().lower()
    if not s:
        return None
    digit = _DIGITS.search(s)
    start, tokens = None, []
    for m in re.finditer(r"[a-z]+", s):
        tok = m.group(0)
        if start is None:
            if tok in _NUMBER_WORDS:
                start, tokens = m.start(), [tok]
        elif tok in _NUMBER_WORDS:
            tokens.append(tok)
        elif tok != "and":
            break
    if digit is not None and (start is None or digit.start() < start):
        return float(digit.group(0))
    if start is None:
        return None
    total, current = 0, 0
    for tok in tokens:
        v = _NUMBER_WORDS[tok]
        if v == 100:
            current = max(current, 1) * 100
        elif v == 1000:
            total, current = total + max(current, 1) * 1000, 0
        else:
            current += v
    return float(total + current)


def to_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- MMSI-Bench
def mmsi_letter(output: str | None) -> str:
    """``extract_single_choice_with_word_boundary``: the letter it reads ("" for none)."""
    pred = str(output or "")
    for pattern in (r"``([^`]*)``", r"`([^`]*)`", r"\{([^}]*)\}"):
        m = re.search(pattern, pred)
        if m:
            pred = m.group(1)
    m = re.search(r"\b[A-F]\b(?!\s[a-zA-Z])", pred, flags=re.I)
    return m.group().upper() if m else ""


# ---------------------------------------------------------------- OmniSpatial
_OMNI_ANSWER = re.compile(r"Answer\s*:\s*([A-D])\b", re.I)


def omnispatial_letter(output: str | None) -> str:
    """The last ``Answer: X`` as written (case kept), "A" when there is none."""
    found = _OMNI_ANSWER.findall(output or "")
    return found[-1] if found else "A"


# ---------------------------------------------------------------- ViewSpatial-Bench
def viewspatial_letter(output: str | None) -> str:
    m = re.search(r"\b([A-D])\b", (output or "").split("\n")[-1], re.I)
    return m.group(1).upper() if m else ""


# ---------------------------------------------------------------- SITE (MMMU parse)
def site_letter(output: str | None, n_options: int) -> str:
    """MMMU's ``parse_multi_choice_response``; "" where the official code picks at random."""
    letters = [chr(65 + i) for i in range(n_options)]
    response = f" {(output or '').strip()} "
    tiers = (lambda c: f"({c})" in response, lambda c: f" {c} " in response, lambda c: f"{c}." in response,
             lambda c: f"{c}:" in response or f":{c}" in response or f": {c}" in response)
    for hit in tiers:
        found = [c for c in letters if hit(c)]
        if found:
            break
    else:
        return ""
    if len(found) == 1:
        return found[0]
    return found[int(np.argmax([response.rfind(f" {c} ") for c in found]))]


# ---------------------------------------------------------------- SPAR-Bench
def spar_letter_correct(output: str | None, gt: str) -> bool:
    pred, target = (output or "").lower(), str(gt).lower()
    return pred == target or pred in target or pred[:1] == target


def spar_number(output: str | None, multi_view: bool) -> float | None:
    """``process_na``: the first number (``*_mv``: the last, -1 when none); None when none."""
    numbers = [float(n) for n in re.findall(r"(?<!\^)\d+\.\d+|(?<!\^)\d+", output or "")]
    if multi_view:
        return numbers[-1] if numbers else -1.0
    return numbers[0] if numbers else None


SPAR_AXES = (("move_right", "move_left"), ("move_up", "move_down"), ("move_forward", "move_backward"),
              ("rotate_right", "rotate_left"), ("rotate_up", "rotate_down"))


def motions(text: str) -> dict[str, float]:
    return {k.strip(): float(v) for k, v in (item.split(":") for item in text.split(","))}


def spar_vci(output: str | None, gt: str) -> float:
    """``compute_vci_metric``: mean over the five signed motion axes of MRA(truth, prediction)
    (the arguments swapped, as there: the error is relative to the *prediction*); 0 when unreadable."""
    try:
        pred, true = motions(output or ""), motions(gt)
    except ValueError:
        return 0.0
    scores = []
    for pos, neg in SPAR_AXES:
        p = pred.get(pos, 0.0) - pred.get(neg, 0.0)
        g = true.get(pos, 0.0) - true.get(neg, 0.0)
        scores.append(lmms_mra(g, p, zero_abs=True))
    return float(np.mean(scores))
