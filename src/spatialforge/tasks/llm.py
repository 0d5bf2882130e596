"""Optional LLM writer for problem-solving questions (off by default).

HiSpatial writes its level-3 problems with GPT from scene facts (App. 7.3).  Here the question
and its answer are always computed from the scene by ``problem_solving``; an LLM behind any
OpenAI-compatible ``/chat/completions`` endpoint may *rephrase the question* and write a
student-style reasoning trace from the facts.  The rewrite is accepted only if it keeps every
object reference verbatim; otherwise the template question stays.  The API key is read from
the environment variable named in the config and is never logged or stored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace

from ..llm_client import ChatClient, EndpointError
from .record import QARecord

PROMPT = (
    "You rewrite spatial reasoning questions about a photo. Rewrite the QUESTION so it reads naturally and "
    "asks exactly the same thing. Keep every object reference listed under REFERENCES word for word. Then "
    "write a short step-by-step REASONING that derives the given ANSWER only from the FACTS. Reply as JSON: "
    '{{"question": "...", "reasoning": "..."}}.\n\nQUESTION: {question}\nREFERENCES: {refs}\nFACTS: {facts}\n'
    "ANSWER: {answer}"
)


@dataclass(frozen=True)
class LLMWriterConfig:
    """``enabled=False`` (default) means the writer is off and records pass through unchanged."""

    enabled: bool = False
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4.1-mini"
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 60.0
    temperature: float = 0.3

    def __post_init__(self) -> None:
        if self.enabled and not self.api_key_env:
            raise ValueError("LLMWriterConfig: api_key_env must name an environment variable")
        if self.timeout_s <= 0:
            raise ValueError("LLMWriterConfig: timeout_s must be positive")


def writer_client(config: LLMWriterConfig) -> ChatClient:
    """The project's HTTP client for the writer: one attempt per record and no circuit breaker
    (the dataset writer counts failures in a row itself, see ``datasets/llm_writer.py``).
    Raises RuntimeError when the key's environment variable is unset."""
    key = os.environ.get(config.api_key_env)
    if not key:
        raise RuntimeError(f"LLM writer enabled but the environment variable {config.api_key_env} is not set")
    return ChatClient(base_url=config.base_url, api_key=key, timeout=config.timeout_s, max_retries=0, breaker_after=0)


def rewrite_record(record: QARecord, references: list[str], config: LLMWriterConfig,
                   client: ChatClient | None = None, errors: list[str] | None = None) -> QARecord:
    """The record with an LLM-written question/reasoning, or unchanged (writer off, failed
    request, bad JSON, or a dropped reference).  Only free-form problem-solving records are
    rewritten (MCQ/TF texts are tied to their options and claims).  ``client``: default
    :func:`writer_client`; a failed request's reason (key redacted) is appended to ``errors``."""
    if not config.enabled or record.task != "problem_solving" or record.format != "free":
        return record
    prompt = PROMPT.format(question=record.question, refs="; ".join(references), facts=record.reasoning,
                           answer=record.answer)
    payload = {"model": config.model, "temperature": config.temperature,
               "messages": [{"role": "user", "content": prompt}]}
    try:
        text = (client or writer_client(config)).complete(payload)
    except EndpointError as e:  # network, HTTP, a reply without content: keep the template question
        if errors is not None:
            errors.append(f"{type(e).__name__}: {e}")
        return record
    try:
        start, end = text.find("{"), text.rfind("}")
        data = json.loads(text[start:end + 1])
        question = str(data["question"]).strip()
        reasoning = str(data.get("reasoning", "")).strip()
    except (ValueError, KeyError, TypeError):  # not JSON with a question: keep the template question
        return record
    if not question or any(r not in question for r in references):
        return record
    meta = dict(record.meta, llm_rewritten=True, llm_model=config.model, template_question=record.question)
    return replace(record, question=question, reasoning=reasoning or record.reasoning, meta=meta)
