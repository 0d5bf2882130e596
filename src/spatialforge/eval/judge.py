"""LLM-as-judge over any OpenAI-compatible endpoint, cached on disk.

Judgement kinds (each a prompt template and a parser):
- ``yes_no``: SVQA-R1 Appendix B.2, verbatim: is a predicted yes/no answer the same as the
  ground truth?  Score 0 or 1.
- ``qualitative``: open-ended or qualitative spatial answers (SVQA-R1's "llm" metric,
  SpatialRGPT-Bench qualitative).  Score 0 or 1.
- ``distance``: both answers converted to metres; score 1 when the response lies within
  ±25 % of the answer (the SpatialRGPT-Bench rule); ``values`` keep the metres and ratios so
  callers can apply other thresholds (factor 2, 50-200 %).
- ``direction``: clock directions; score 1 when they differ by at most one hour.

The last three follow the structure of the SpatialRGPT-Bench GPT-4 judge (instruction, unit
conversion, JSON keys, few-shot examples, "Your Turn"), in our own words: override any
template with ``templates={kind: text}`` to reproduce a paper's exact wording.

SpatialRGPT-Bench qualitative questions are judged with the official per-category prompts
(``qualitative(..., category=...)``): the official instruction, then the few-shot examples of
the category (``judge_templates/<category>.txt``, the official files, see their NOTICE.md;
``choice.txt`` for every ``*choice*`` category) with ``{question}`` filled in, then "Your
Turn", exactly as ``evaluate_qual_question`` in ``scripts/srgpt/eval/
evaluate_spatial_with_gpt4.py`` builds them, read from the ``your_mark`` key.  One
difference, stated: fields are substituted literally, once, so braces in an answer are
text (the official double ``str.format`` fails or rewrites them).  ``template_dir`` reads
the category files from another folder (e.g. a checkout of the official repository).

A judgement that cannot be made (endpoint down after retries, circuit breaker open, no
template for the category, unparsable output) comes back as ``JudgeResult(ok=False,
reason=...)`` and is counted in ``stats`` by kind (``summary()["failed_by"]``); it is never
replaced by a guess.  A dead endpoint costs seconds: the client's circuit breaker
(:class:`~spatialforge.llm_client.CircuitBreaker`) fails every request at once after a
few consecutive connection failures.  Model output is parsed with ``json``/``float`` only.
Completions are cached by a hash of (model, system prompt, prompt, decoding settings); the
API key is never stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..llm_client import ChatClient, CircuitOpenError, EndpointError
from .metrics import clock_hours_off, numeric_correct, ratio
from .predictions import PredictionCache

log = logging.getLogger(__name__)

JSON_SYSTEM_PROMPT = "You are a helpful assistant designed to output JSON."

YES_NO_TEMPLATE = (
    "You are an evaluator. Given a Yes/No question, a ground-truth answer, and a predicted answer, determine "
    "whether the predicted answer means the same as the ground-truth answer.\n"
    "Predicted answer: {pred}, ground-truth answer: {gt}.\n"
    "Output only 0 or 1, where 0 indicates incorrect and 1 indicates correct."
)

QUALITATIVE_TEMPLATE = """Evaluate the response against the correct answer to the question.
Mark the response with a single integer, 0 or 1.
1 means that the response means the same as the correct answer.
0 means that the response differs from or contradicts the correct answer.
The output should be in JSON format with the key "score".

Example 1:
Question: Is the lamp to the left of the sofa?
Answer: Yes, the lamp is to the left of the sofa.
Response: Indeed, the lamp stands on the sofa's left side.
"score": 1

Example 2:
Question: Is the lamp to the left of the sofa?
Answer: Yes, the lamp is to the left of the sofa.
Response: No, the lamp is on the right of the sofa.
"score": 0

Example 3:
Question: Which is taller, the cabinet or the chair?
Answer: The cabinet is taller.
Response: The chair is shorter than the cabinet.
"score": 1

Your Turn:
Question: {question}
Answer: {answer}
Response: {response}
"""

DISTANCE_TEMPLATE = """Evaluate the response against the correct answer to the question.
Convert the measurement in the correct answer and the one in the response to meters, using 1 inch = 0.0254 meters, 1 foot = 0.3048 meters, 1 centimeter = 0.01 meters.
Output two numbers in meters, one for the answer and one for the response, in JSON format with the keys "answer_in_meters" and "response_in_meters". If the response gives no measurement, use null for it.

Example 1:
Question: How wide is the desk?
Answer: The desk is 1.20 meters wide.
Response: It is about 95 centimeters wide.
"answer_in_meters": 1.2, "response_in_meters": 0.95

Example 2:
Question: How far apart are the chair and the door?
Answer: They are 3.5 feet apart.
Response: Roughly 2 meters.
"answer_in_meters": 1.07, "response_in_meters": 2.0

Example 3:
Question: What is the height of the shelf?
Answer: The shelf is 80 inches tall.
Response: I cannot tell from this image.
"answer_in_meters": 2.03, "response_in_meters": null

Your Turn:
Question: {question}
Answer: {answer}
Response: {response}
"""

DIRECTION_TEMPLATE = """Evaluate the response against the correct answer to the question.
Extract the direction given by the correct answer and by the response as clock positions (12 o'clock = 12, 1 o'clock = 1, and so on).
Output two integers from 1 to 12, one for the answer and one for the response, in JSON format with the keys "answer_direction" and "response_direction". If the response gives no direction, use null for it.

Example 1:
Question: If you stand at the table, where is the door?
Answer: The door is at about 3 o'clock from the table.
Response: From the table, the door is around the 2 o'clock direction.
"answer_direction": 3, "response_direction": 2

Example 2:
Question: If you stand at the sofa, where is the window?
Answer: The window is around 12 o'clock from the sofa.
Response: It is at 11 o'clock.
"answer_direction": 12, "response_direction": 11

Your Turn:
Question: {question}
Answer: {answer}
Response: {response}
"""


# SpatialRGPT-Bench's qualitative judge (evaluate_qual_question), verbatim: the instruction,
# the category's examples, then "Your Turn" (the official f-string's layout, trailing spaces
# included).
SPATIALRGPT_QUAL_HEAD = """
You should help me to evaluate the response given the question and the correct answer.
To mark a response, you should output a single integer between 0 and 1.
1 means that the response perfectly matches the answer.
0 means that the response is completely different from the answer.
The output should be in JSON format.

"""
SPATIALRGPT_QUAL_TAIL = """

Your Turn:
Question: {question}
Answer: {answer}
Response: {response}
    """
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]+")


def spatialrgpt_template_name(category: str) -> str:
    """The official template file stem for a qualitative category: "choice" for every category
    whose name contains "choice", else the category itself ("left_predicate")."""
    return "choice" if "choice" in category else category


@lru_cache(maxsize=None)
def _shipped_template(name: str) -> str | None:
    path = resources.files(__package__).joinpath("judge_templates", f"{name}.txt")
    return path.read_text(encoding="utf-8") if path.is_file() else None


def spatialrgpt_examples(category: str, template_dir: str | os.PathLike | None = None) -> str:
    """The few-shot examples for ``category`` (stripped, as the official code reads them).
    Raises ``KeyError`` naming the category when there is no template for it."""
    name = spatialrgpt_template_name(str(category))
    if not _TEMPLATE_NAME.fullmatch(name):  # a category from the data never becomes a path
        raise KeyError(f"no SpatialRGPT judge template for category {category!r}")
    if template_dir is not None:
        path = Path(template_dir) / f"{name}.txt"
        text = path.read_text(encoding="utf-8") if path.is_file() else None
    else:
        text = _shipped_template(name)
    if text is None:
        raise KeyError(f"no SpatialRGPT judge template for category {category!r} ({name}.txt)")
    return text.strip()


def spatialrgpt_prompt(category: str, question: str, answer: str, response: str,
                       template_dir: str | os.PathLike | None = None) -> str:
    """The official SpatialRGPT-Bench qualitative judge prompt for one sample."""
    examples = fill(spatialrgpt_examples(category, template_dir), question=question)
    return SPATIALRGPT_QUAL_HEAD + examples + fill(SPATIALRGPT_QUAL_TAIL, question=question, answer=answer,
                                                     response=response)


@dataclass(frozen=True)
class JudgeResult:
    """``ok=False``: no judgement (see ``reason``); ``score`` is then None, never a guess."""

    ok: bool
    score: float | None = None
    values: dict[str, Any] = field(default_factory=dict)
    raw: str | None = None
    reason: str | None = None
    cached: bool = False


class JudgeParseError(ValueError):
    pass


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in a judge reply: whole text, a ``{...}`` block, or bare ``"k": v`` pairs."""
    candidates = [text.strip()]
    if m := re.search(r"\{.*\}", text, re.S):
        candidates.append(m.group(0))
    candidates.append("{" + text.strip().strip(",") + "}")
    for c in candidates:
        try:
            obj = json.loads(c)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    raise JudgeParseError(f"no JSON object in judge output {text[:200]!r}")


def _number(value: Any, key: str, allow_null: bool = False) -> float | None:
    if value is None and allow_null:
        return None
    if isinstance(value, bool) or value is None:
        raise JudgeParseError(f"{key} is {value!r}, not a number")
    try:
        x = float(value)  # float() of a str parses numerals only; nothing is evaluated
    except (TypeError, ValueError):
        raise JudgeParseError(f"{key} is {value!r}, not a number") from None
    if not math.isfinite(x):
        raise JudgeParseError(f"{key} is {value!r}, not a finite number")
    return x


def parse_binary(text: str, key: str = "score") -> float:
    """0 or 1 from ``{"score": 1}``, a bare ``1``, or a reply whose only standalone 0/1 is it."""
    try:
        obj = parse_json_object(text)
    except JudgeParseError:
        obj = None
    if obj is not None:
        if key in obj:
            x = _number(obj[key], key)
        elif len(obj) == 1:  # a custom template's own key, e.g. SpatialRGPT's "your_mark"
            x = _number(next(iter(obj.values())), key)
        else:
            raise JudgeParseError(f"judge JSON has no {key!r}: {text[:200]!r}")
    else:
        found = set(re.findall(r"(?<![\w.])([01])(?:\.0+)?(?!\w|\.\d)", text))
        if len(found) != 1:
            raise JudgeParseError(f"expected a single 0 or 1, got {text[:200]!r}")
        x = float(found.pop())
    if x not in (0.0, 1.0):
        raise JudgeParseError(f"{key} must be 0 or 1, got {x}")
    return x


def _score_yes_no(raw: str) -> tuple[float, dict[str, Any]]:
    return parse_binary(raw), {}


def _score_qualitative(raw: str) -> tuple[float, dict[str, Any]]:
    return parse_binary(raw, "score"), {}


def _score_your_mark(raw: str) -> tuple[float, dict[str, Any]]:
    return parse_binary(raw, "your_mark"), {}


def _score_distance(raw: str) -> tuple[float, dict[str, Any]]:
    obj = parse_json_object(raw)
    a = _number(obj.get("answer_in_meters"), "answer_in_meters")
    r = _number(obj.get("response_in_meters"), "response_in_meters", allow_null=True)
    if a is None or a <= 0:
        raise JudgeParseError(f"answer_in_meters must be > 0, got {a}")
    values: dict[str, Any] = {"answer_in_meters": a, "response_in_meters": r}
    if r is None:  # the judge read no measurement in the response: a wrong answer, not a failed judgement
        return 0.0, values
    values["relative_error"] = abs(r - a) / a
    values["ratio"] = float(ratio(r, a)[0])
    return float(numeric_correct(r, a, "within_25pct")), values


def _score_direction(raw: str) -> tuple[float, dict[str, Any]]:
    obj = parse_json_object(raw)
    a = _number(obj.get("answer_direction"), "answer_direction")
    r = _number(obj.get("response_direction"), "response_direction", allow_null=True)
    if a is None or not 1 <= a <= 12:
        raise JudgeParseError(f"answer_direction must be 1..12, got {a}")
    if r is None:
        return 0.0, {"answer_direction": a, "response_direction": None}
    if not 0 <= r <= 12:
        raise JudgeParseError(f"response_direction must be 1..12, got {r}")
    hours_off = clock_hours_off(a, r)
    return float(hours_off <= 1), {"answer_direction": a, "response_direction": r, "hours_off": hours_off}


@dataclass(frozen=True)
class JudgeKind:
    template: str
    fields: tuple[str, ...]
    score: Callable[[str], tuple[float, dict[str, Any]]]
    json_mode: bool


JUDGE_KINDS: dict[str, JudgeKind] = {
    "yes_no": JudgeKind(YES_NO_TEMPLATE, ("pred", "gt"), _score_yes_no, json_mode=False),
    "qualitative": JudgeKind(QUALITATIVE_TEMPLATE, ("question", "answer", "response"), _score_qualitative, True),
    "distance": JudgeKind(DISTANCE_TEMPLATE, ("question", "answer", "response"), _score_distance, True),
    "direction": JudgeKind(DIRECTION_TEMPLATE, ("question", "answer", "response"), _score_direction, True),
}


def fill(template: str, **fields: str) -> str:
    """Substitute ``{name}`` placeholders literally and in one pass: templates hold JSON braces,
    and a value holding "{answer}" stays as it is."""
    if not fields:
        return template
    pattern = re.compile("{(" + "|".join(re.escape(k) for k in fields) + ")}")
    return pattern.sub(lambda m: str(fields[m.group(1)]), template)


class LLMJudge:
    """Judge predictions with an LLM behind an OpenAI-compatible endpoint.

    ``api_key``: None reads ``$SPATIALFORGE_API_KEY`` / ``$OPENAI_API_KEY``.  ``cache_dir``:
    completions are cached in ``cache_dir/judge_cache.jsonl`` (None: no cache).
    ``json_mode``: send ``response_format={"type": "json_object"}`` for the JSON kinds.
    ``template_dir``: read the SpatialRGPT category templates from here instead of the shipped
    copies.  ``breaker_after`` / ``breaker_cooldown``: the client's circuit breaker (consecutive
    connection failures that stop all calls; seconds before one probe; 0 turns it off).
    """

    def __init__(
        self,
        base_url: str | None,
        model: str,
        api_key: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        temperature: float = 0.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        *,
        timeout: float = 60.0,
        max_tokens: int = 256,
        json_mode: bool = True,
        templates: Mapping[str, str] | None = None,
        template_dir: str | os.PathLike | None = None,
        breaker_after: int = 3,
        breaker_cooldown: float = 30.0,
    ):
        self.client = ChatClient(base_url, api_key, timeout=timeout, max_retries=max_retries, backoff=backoff,
                                 breaker_after=breaker_after, breaker_cooldown=breaker_cooldown)
        self.template_dir = template_dir
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.json_mode = json_mode
        self.templates = {k: v.template for k, v in JUDGE_KINDS.items()}
        for kind, text in (templates or {}).items():
            self._kind(kind)
            self.templates[kind] = text
        self.cache = PredictionCache(os.path.join(cache_dir, "judge_cache.jsonl")) if cache_dir is not None else None
        self.stats: Counter[str] = Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LLMJudge(model={self.model!r}, base_url={self.client.base_url!r})"

    @staticmethod
    def _kind(kind: str) -> JudgeKind:
        if kind not in JUDGE_KINDS:
            raise KeyError(f"unknown judge kind {kind!r}; choose from: {', '.join(sorted(JUDGE_KINDS))}")
        return JUDGE_KINDS[kind]

    def _payload(self, prompt: str, json_mode: bool) -> dict[str, Any]:
        messages = [{"role": "system", "content": JSON_SYSTEM_PROMPT}] if json_mode else []
        messages.append({"role": "user", "content": prompt})
        payload: dict[str, Any] = {"model": self.model, "messages": messages,
                                   "temperature": self.temperature, "max_tokens": self.max_tokens}  # fmt: skip
        if json_mode:
            payload["response_format"] = {"type": "json_object"}
        return payload

    @staticmethod
    def cache_key(payload: Mapping[str, Any]) -> str:
        """Hash of everything that shapes the completion (never the API key, which is not in it)."""
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def complete(self, prompt: str, json_mode: bool = False) -> tuple[str, bool]:
        """(completion text, came from cache).  Raises ``EndpointError``."""
        payload = self._payload(prompt, json_mode)
        key = self.cache_key(payload)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return hit, True
        text = self.client.complete(payload)
        if self.cache is not None:
            with self._lock:
                self.cache.add(key, text)
        return text, False

    def judge(self, kind: str, **fields: str) -> JudgeResult:
        """One judgement; ``fields`` are the kind's placeholders (``pred``/``gt`` or ``question``/``answer``/``response``)."""
        spec = self._kind(kind)
        missing = [f for f in spec.fields if f not in fields]
        if missing:
            raise TypeError(f"judge kind {kind!r} needs fields {spec.fields}; missing {missing}")
        prompt = fill(self.templates[kind], **{f: fields[f] for f in spec.fields})
        return self._run(prompt, spec.score, spec.json_mode)

    def _run(self, prompt: str, score: Callable[[str], tuple[float, dict[str, Any]]], json_mode: bool) -> JudgeResult:
        try:
            raw, cached = self.complete(prompt, json_mode=json_mode and self.json_mode)
        except CircuitOpenError as e:
            return self._record(JudgeResult(ok=False, reason=f"endpoint: {e}"), "circuit_open")
        except EndpointError as e:
            return self._record(JudgeResult(ok=False, reason=f"endpoint: {e}"), "endpoint")
        try:
            value, values = score(raw)
        except JudgeParseError as e:
            return self._record(JudgeResult(ok=False, raw=raw, reason=f"unparsable judge output: {e}", cached=cached),
                                "unparsable")
        return self._record(JudgeResult(ok=True, score=value, values=values, raw=raw, cached=cached))

    def _record(self, result: JudgeResult, failure: str | None = None) -> JudgeResult:
        """Count a result; ``failure``: the kind of a failed one (endpoint, circuit_open, ...)."""
        repeat = False
        with self._lock:
            self.stats["ok" if result.ok else "failed"] += 1
            self.stats["cached"] += result.cached
            if not result.ok:
                self.stats[f"failed_{failure}"] += 1
                self.failures.append(result.reason or "")
                repeat = failure == "circuit_open" and self.stats["failed_circuit_open"] > 1
        if not result.ok:  # once for an open circuit, not once per sample
            log.log(logging.DEBUG if repeat else logging.WARNING, "judge failed: %s", result.reason)
        return result

    def yes_no(self, pred: str, gt: str) -> JudgeResult:
        return self.judge("yes_no", pred=pred, gt=gt)

    def qualitative(self, question: str, answer: str, response: str, category: str | None = None) -> JudgeResult:
        """Same meaning as the correct answer?  With ``category`` (a SpatialRGPT-Bench qualitative
        category): the official prompt with that category's examples; else the generic template."""
        if category is None:
            return self.judge("qualitative", question=question, answer=answer, response=response)
        try:
            prompt = spatialrgpt_prompt(category, question, answer, response, self.template_dir)
        except KeyError as e:
            return self._record(JudgeResult(ok=False, reason=str(e.args[0])), "no_template")
        return self._run(prompt, _score_your_mark, True)

    def distance(self, question: str, answer: str, response: str) -> JudgeResult:
        return self.judge("distance", question=question, answer=answer, response=response)

    def direction(self, question: str, answer: str, response: str) -> JudgeResult:
        return self.judge("direction", question=question, answer=answer, response=response)

    def judge_many(self, kind: str, rows: Iterable[Mapping[str, str]], max_workers: int = 4) -> list[JudgeResult]:
        """``judge(kind, **row)`` for each row, ``max_workers`` at a time, results in row order."""
        rows = list(rows)
        with ThreadPoolExecutor(max(1, min(max_workers, len(rows) or 1))) as pool:
            return list(pool.map(lambda row: self.judge(kind, **row), rows))

    def summary(self) -> dict[str, Any]:
        """Counts of ok / failed / cached judgements so far, and the failures by kind (endpoint,
        circuit_open, unparsable, no_template): report the failures, don't hide them."""
        failed_by = {k.removeprefix("failed_"): v for k, v in sorted(self.stats.items())
                     if k.startswith("failed_") and v}
        return {"ok": self.stats["ok"], "failed": self.stats["failed"], "cached": self.stats["cached"],
                "failed_by": failed_by}
